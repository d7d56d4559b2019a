/**
 * Goal: `/metrics` is valid Prometheus exposition (`promtool check metrics` passes), carries
 * every governor metric with the HELP text docs/http-api.md documents, computes values at
 * scrape time, and includes the default process metrics.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GOVERNOR_METRICS } from '../../services/api/metrics.js';
import { type ApiHarness, apiIn, request } from './api-support.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const hasPromtool = promtool.status === 0;

let current: ApiHarness | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('/metrics', () => {
  it.skipIf(!hasPromtool)(
    'passes promtool check metrics in AGGRESSIVE and in SHUTDOWN',
    async () => {
      for (const state of ['AGGRESSIVE', 'SHUTDOWN'] as const) {
        current = await apiIn(state);
        const { text } = await request(current.api.url, '/metrics');
        const check = spawnSync('promtool', ['check', 'metrics'], {
          input: text,
          encoding: 'utf8',
        });
        expect(`${check.stdout}${check.stderr}`, state).toBe('');
        expect(check.status).toBe(0);
        await current.cleanup();
        current = undefined;
      }
    },
  );

  it.runIf(!hasPromtool)('promtool is absent here: the check is skipped (CI installs it)', () => {
    expect(hasPromtool).toBe(false);
  });

  it('has every governor metric with its documented HELP, plus default process metrics', async () => {
    current = await apiIn('AGGRESSIVE');
    const { text } = await request(current.api.url, '/metrics');
    const docs = readFileSync(join(process.cwd(), 'docs', 'http-api.md'), 'utf8');
    for (const [name, help] of Object.entries(GOVERNOR_METRICS)) {
      expect(text).toContain(`# HELP ${name} ${help}\n`);
      expect(text).toContain(`# TYPE ${name} gauge\n`);
      expect(docs, `docs/http-api.md documents ${name}`).toContain(`| \`${name}\``);
      expect(docs, `docs/http-api.md quotes the HELP of ${name}`).toContain(help);
    }
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('computes values at scrape time: ages grow, alerts and head seq follow the database', async () => {
    current = await apiIn('STARTING');
    const first = (await request(current.api.url, '/metrics')).text;
    expect(first).toContain('governor_heartbeat_age_seconds +Inf\n');
    expect(first).toContain('governor_input_age_seconds{input="market_data"} 0\n');
    current.h.clock.skip(2_500);
    current.h.gov.healthMonitor.recordError();
    current.h.gov.operatorShutdown({ operator: 'alice', reason: 'metrics test' });
    const second = (await request(current.api.url, '/metrics')).text;
    expect(second).toContain('governor_input_age_seconds{input="market_data"} 2.5\n');
    expect(second).toContain('governor_error_rate_per_minute 1\n');
    expect(second).toContain('governor_mode{state="SHUTDOWN"} 1\n');
    expect(second).toContain('governor_alerts_unacknowledged{severity="CRITICAL"} 1\n');
    const head = current.h.gov.engine.events.head()?.seq ?? 0;
    expect(head).toBeGreaterThan(0);
    expect(second).toContain(`governor_event_log_head_seq ${head}\n`);
    expect(second).toContain('governor_uptime_seconds 2.5\n');
  });
});
