/**
 * Goal: every code in the error catalogue is documented in docs/errors.md under its own
 * heading, the document names no code the catalogue does not have, and the refusals it lists
 * are exactly the codes the catalogue marks `refusal`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, type ErrorCode, isRefusalCode } from '../../services/errors.js';

const document = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const headings = [...document.matchAll(/^## (GOV_[A-Z_]+)\s*$/gm)].map((match) => match[1]);

describe('docs/errors.md', () => {
  it.each(Object.keys(ERROR_CATALOGUE))('documents %s under its own heading', (code) => {
    expect(headings).toContain(code);
  });

  it('documents no code that is not in the catalogue, and none twice', () => {
    expect(headings.filter((code) => code === undefined || !(code in ERROR_CATALOGUE))).toEqual([]);
    expect(new Set(headings).size).toBe(headings.length);
  });

  it('lists as refusals exactly the codes the catalogue marks refusal', () => {
    const paragraph = /The refusals:\s*([^.]*)\./.exec(document)?.[1] ?? '';
    const documented = paragraph.split(',').map((code) => code.trim());
    const marked = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(isRefusalCode);
    expect([...documented].sort()).toEqual([...marked].sort());
  });
});
