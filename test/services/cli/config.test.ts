/**
 * Goal: the configuration `governor run` needs is refused before anything starts, naming the
 * key (regression, issue "Hostile conditions": a health API token too short was only logged while
 * the daemon went AGGRESSIVE); the default config path is read when it exists; the sample config
 * (deploy/governor.example.yaml) holds every key with its default; `config check` masks secrets.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as apiOptions from '../../../services/api/options.js';
import { ALERT_SECTION_KEYS } from '../../../services/cli/alerts-layers.js';
import { MASK, maskedConfig, maskUrl } from '../../../services/cli/commands/config-check.js';
import { API_KEYS, resolveDaemonConfig, TOP_LEVEL_KEYS } from '../../../services/cli/config.js';
import {
  BEARER_TOKEN_LENGTH_MAX,
  BEARER_TOKEN_LENGTH_MIN,
} from '../../../services/cli/config-layers.js';
import { checkDaemonPaths } from '../../../services/cli/daemon-prerequisites.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';

const SAMPLE = resolve(import.meta.dirname, '..', '..', '..', 'deploy', 'governor.example.yaml');
const NO_DEFAULT = '/nonexistent/governor.yaml';
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'gov-config-'));
  directories.push(directory);
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

describe('regression: a health API token too short was accepted and the daemon went AGGRESSIVE', () => {
  it('is refused while resolving, naming the key it came from', () => {
    const short = file('short.yaml', 'api:\n  bearerToken: tooshort\n');
    expect(
      refusal(() =>
        resolveDaemonConfig({ config: short }, { env: {}, defaultConfigPath: NO_DEFAULT }),
      ),
    ).toMatch(/api\.bearerToken: expected 16 to 1024 token68 characters .*got 8 characters/);
    expect(
      refusal(() =>
        resolveDaemonConfig(
          {},
          { env: { GOVERNOR_API_TOKEN: 'x' }, defaultConfigPath: NO_DEFAULT },
        ),
      ),
    ).toMatch(/^GOV_INVALID_CONFIG: GOVERNOR_API_TOKEN: expected 16 to 1024/);
    expect(
      refusal(() =>
        resolveDaemonConfig(
          {},
          {
            env: { GOVERNOR_API_TOKEN: 'has spaces in it, sixteen+' },
            defaultConfigPath: NO_DEFAULT,
          },
        ),
      ),
    ).toMatch(/GOVERNOR_API_TOKEN: expected .*token68/);
    const good = resolveDaemonConfig(
      {},
      { env: { GOVERNOR_API_TOKEN: 'a'.repeat(16) }, defaultConfigPath: NO_DEFAULT },
    );
    expect(good.api.bearerToken).toBe('a'.repeat(16));
  });

  it('applies the same token rule as the health API itself', () => {
    expect(BEARER_TOKEN_LENGTH_MIN).toBe(apiOptions.BEARER_TOKEN_LENGTH_MIN);
    expect(BEARER_TOKEN_LENGTH_MAX).toBe(apiOptions.BEARER_TOKEN_LENGTH_MAX);
  });

  it('a database directory that does not exist and a socket path too long are refused, naming the key', () => {
    const missing = resolveDaemonConfig(
      { db: '/nonexistent/dir/governor.db' },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    expect(refusal(() => checkDaemonPaths(missing))).toMatch(
      /^GOV_INVALID_CONFIG: db: the directory/,
    );
    const long = resolveDaemonConfig(
      { db: join(tmpdir(), 'governor.db'), socket: `/tmp/${'s'.repeat(120)}.sock` },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    expect(refusal(() => checkDaemonPaths(long))).toMatch(/controlSocket: the control socket path/);
  });
});

describe('the default config path', () => {
  it('is read when no file is named and it exists; a named file wins', () => {
    const fallback = file('governor.yaml', 'desiredMode: OBSERVE_ONLY\n');
    const used = resolveDaemonConfig({}, { env: {}, defaultConfigPath: fallback });
    expect(used.configPath).toBe(fallback);
    expect(used.desiredMode).toBe('OBSERVE_ONLY');
    const named = file('named.yaml', 'logLevel: warn\n');
    const chosen = resolveDaemonConfig({ config: named }, { env: {}, defaultConfigPath: fallback });
    expect(chosen.configPath).toBe(named);
    expect(chosen.desiredMode).toBe('AGGRESSIVE');
    const none = resolveDaemonConfig({}, { env: {}, defaultConfigPath: NO_DEFAULT });
    expect(none.configPath).toBeNull();
  });
});

describe('the sample config, deploy/governor.example.yaml', () => {
  const text = readFileSync(SAMPLE, 'utf8');

  it('resolves to exactly the defaults', () => {
    const sample = resolveDaemonConfig(
      { config: SAMPLE },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    const defaults = resolveDaemonConfig({}, { env: {}, defaultConfigPath: NO_DEFAULT });
    expect({ ...sample, configPath: null }).toEqual(defaults);
  });

  it('sets every threshold to its default and names every other key', () => {
    const parsed = parse(text) as { thresholds: Record<string, number> };
    expect(parsed.thresholds).toEqual({ ...DEFAULT_THRESHOLDS });
    for (const key of [...TOP_LEVEL_KEYS, ...API_KEYS]) {
      expect(text).toMatch(new RegExp(`^\\s*(# )?${key}:`, 'm'));
    }
    for (const [section, keys] of Object.entries(ALERT_SECTION_KEYS)) {
      expect(text).toMatch(new RegExp(`#\\s*(- )?${section}:`));
      for (const key of keys) expect(text).toMatch(new RegExp(`#\\s*(- )?${key}:`));
    }
  });
});

describe('config check masks secrets', () => {
  it('shows no token, header value, Slack path, routing key or URL password', () => {
    const config = resolveDaemonConfig(
      {
        config: file(
          'secrets.yaml',
          `api:
  bearerToken: s3cr3t-token-0123456789
alerts:
  webhooks:
    - url: https://hooks.example.com/governor?key=abc123
      headers: { Authorization: "Bearer hunter2" }
  alertmanager:
    url: http://127.0.0.1:9093
  slack:
    url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
  pagerduty:
    routingKey: R0UTINGKEY
`,
        ),
      },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    const shown = JSON.stringify(maskedConfig(config));
    for (const secret of ['s3cr3t', 'abc123', 'hunter2', 'XXXXSECRET', 'R0UTINGKEY']) {
      expect(shown).not.toContain(secret);
    }
    expect(shown).toContain('hooks.example.com/governor');
    expect(shown).toContain('http://127.0.0.1:9093');
    expect(maskUrl('https://hooks.slack.com/services/T/B/X', true)).toBe(
      `https://hooks.slack.com/${MASK}`,
    );
    expect(maskUrl('https://user:pa55word@am.example.com:9093/')).toBe(
      `https://user:${MASK}@am.example.com:9093/`,
    );
    expect(maskUrl('not a url')).toBe(MASK);
  });
});
