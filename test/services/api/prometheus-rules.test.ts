/**
 * Goal: the Prometheus rules shipped in deploy/prometheus/ alert on governor itself (down, gate
 * closed too long, heartbeat late, deliveries failing, watchdog missing): `promtool check rules`
 * accepts them, `promtool test rules` proves each fires when it should and not in its
 * look-alike case, every metric they read is one a real `/metrics` exports, and every
 * `runbook_url` lands on an anchor of docs/operations.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiWithSinks, request, type SinksHarness } from './api-support.js';
import { exports, metricNames } from './promql-names.js';

const DIR = join(process.cwd(), 'deploy', 'prometheus');
const RULES = join(DIR, 'governor-rules.yml');
const TESTS = join(DIR, 'governor-rules.test.yml');
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

const rules = (
  parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }
).groups.flatMap((group) => group.rules);

/** Series Prometheus makes itself, not read from governor's /metrics. */
const SYNTHETIC = new Set(['up']);

describe('deploy/prometheus/governor-rules.yml', () => {
  it('alerts on governor down, gate closed too long, heartbeat late, deliveries failing, watchdog missing', () => {
    expect(rules.map((rule) => rule.alert)).toEqual([
      'GovernorDown',
      'GovernorGateClosedTooLong',
      'GovernorHeartbeatLate',
      'GovernorAlertDeliveriesFailing',
      'GovernorAlertDeliveryAbandoned',
      'GovernorAlertOutboxStuck',
      'GovernorWatchdogMissing',
    ]);
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels.severity);
      expect(rule.labels.service, rule.alert).toBe('governor');
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual([
        'description',
        'runbook_url',
        'summary',
      ]);
    }
  });

  it.skipIf(!hasPromtool)('passes promtool check rules', () => {
    const run = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS: 7 rules found');
    expect(run.status).toBe(0);
  });

  it.skipIf(!hasPromtool)(
    'passes its unit tests (promtool test rules), one or more per alert',
    () => {
      const tested = readFileSync(TESTS, 'utf8');
      for (const rule of rules) expect(tested, rule.alert).toContain(`alertname: ${rule.alert}\n`);
      const run = spawnSync('promtool', ['test', 'rules', TESTS], { encoding: 'utf8', cwd: DIR });
      expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS');
      expect(run.status).toBe(0);
    },
  );

  it.runIf(!hasPromtool)('promtool is absent here: its checks are skipped (CI installs it)', () => {
    expect(hasPromtool).toBe(false);
  });

  it('every runbook_url lands on an anchor of docs/operations.md', () => {
    const operations = readFileSync(join(process.cwd(), 'docs', 'operations.md'), 'utf8');
    for (const rule of rules) {
      const [path, anchor] = rule.annotations.runbook_url?.split('#') ?? [];
      expect(path, rule.alert).toBe('docs/operations.md');
      expect(operations, `${rule.alert}: #${anchor}`).toContain(`<a id="${anchor}"></a>`);
    }
  });

  describe('every metric a rule reads is one a real /metrics exports', () => {
    let harness: SinksHarness;
    let exposition: string;

    beforeAll(async () => {
      harness = await apiWithSinks();
      await harness.gov.runStartupChecks();
      exposition = (await request(harness.api.url, '/metrics')).text;
    });

    afterAll(async () => {
      await harness?.cleanup();
    });

    it.each(rules.map((rule) => [rule.alert, rule.expr] as const))('%s', (_alert, expr) => {
      const names = metricNames(expr).filter((name) => !SYNTHETIC.has(name));
      expect(names.length + (expr.includes('up{') ? 1 : 0)).toBeGreaterThan(0);
      for (const name of names) expect(exports(exposition, name), name).toBe(true);
    });
  });
});
