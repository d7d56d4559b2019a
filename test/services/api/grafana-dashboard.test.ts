/**
 * Goal: the Grafana dashboard shipped in deploy/grafana/ is valid and honest: every query of
 * every panel (and of its variables) names only metrics that a real `/metrics` exports, every
 * panel reads the dashboard's Prometheus variable, and panel ids and query ids are unique.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GOVERNOR_METRICS } from '../../../services/api/metrics.js';
import { apiWithSinks, request, type SinksHarness } from './api-support.js';
import { exports, metricNames } from './promql-names.js';

interface Target {
  readonly expr: string;
  readonly refId: string;
  readonly datasource: { type: string; uid: string };
}

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { type: string; uid: string };
  readonly targets?: Target[];
  readonly gridPos: { h: number; w: number; x: number; y: number };
}

interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: Panel[];
  readonly templating: {
    list: Array<{ name: string; type: string; query: unknown; definition?: string }>;
  };
}

const dashboard = JSON.parse(
  readFileSync(join(process.cwd(), 'deploy', 'grafana', 'governor-dashboard.json'), 'utf8'),
) as Dashboard;
/** Grafana's reference to the dashboard's Prometheus variable (literally, not a template). */
const DATASOURCE = { type: 'prometheus', uid: ['$', '{datasource}'].join('') };
const queried = dashboard.panels.filter((panel) => panel.type !== 'row');

describe('deploy/grafana/governor-dashboard.json', () => {
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

  it.each(queried.map((panel) => [panel.title, panel] as const))(
    'panel "%s" queries only metrics /metrics exports',
    (_title, panel) => {
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = metricNames(target.expr);
        expect(names.length, target.expr).toBeGreaterThan(0);
        for (const name of names)
          expect(exports(exposition, name), `${name} in ${target.expr}`).toBe(true);
      }
    },
  );

  it('its variables query only exported metrics', () => {
    const instance = dashboard.templating.list.find((variable) => variable.name === 'instance');
    expect(instance?.definition).toBe('label_values(governor_build_info, instance)');
    for (const variable of dashboard.templating.list) {
      if (variable.type !== 'query') continue;
      const query = (variable.query as { query: string }).query;
      for (const name of metricNames(query)) expect(exports(exposition, name), name).toBe(true);
    }
  });

  it('every panel reads the datasource variable; ids are unique; panels fit the 24-column grid', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of queried) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual(panel.datasource);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    expect(dashboard.uid).toBe('governor');
  });

  it('shows the state, the gate, the heartbeat, transitions, triggers, deliveries, the outbox, the watchdog and the scrub', () => {
    const used = new Set(
      queried.flatMap((panel) => (panel.targets ?? []).flatMap((t) => metricNames(t.expr))),
    );
    for (const name of [
      'governor_mode',
      'governor_gate_open',
      'governor_heartbeat_age_seconds',
      'governor_mode_transitions_total',
      'governor_failsafe_triggers_total',
      'governor_alert_delivery_attempts_total',
      'governor_alert_outbox_rows',
      'governor_watchdog_last_success_timestamp_seconds',
      'governor_integrity_scrub_events_checked',
    ] satisfies Array<keyof typeof GOVERNOR_METRICS>) {
      expect(used, name).toContain(name);
    }
  });
});
