/**
 * Goal: every endpoint of the health API answers as docs/http-api.md says in every lifecycle
 * state (STARTING, CHECKING, AGGRESSIVE, OBSERVE_ONLY, SHUTDOWN): status code, content type
 * and body; `/readyz` says whether this process serves (not whether the gate is open, which is
 * `/api/health/gate`); HEAD mirrors GET without a body; other methods get 405 with Allow;
 * unknown paths get 404 JSON; a `:memory:` governor is read through the governance object.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleState } from '../../../machines/types.js';
import { startApiServer } from '../../../services/api/server.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { makeHarness } from '../../support/harness.js';
import { API_PATHS, type ApiHarness, apiIn, request } from './api-support.js';

let current: ApiHarness | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

interface Expected {
  readonly health: 'pass' | 'warn' | 'fail';
  readonly healthCode: 200 | 503;
  readonly gate: boolean;
  /** `/readyz`: the process serves once the lifecycle has settled, whatever the gate says. */
  readonly ready: 200 | 503;
}

const EXPECTED: Record<LifecycleState, Expected> = {
  STARTING: { health: 'warn', healthCode: 200, gate: false, ready: 503 },
  CHECKING: { health: 'warn', healthCode: 200, gate: false, ready: 503 },
  AGGRESSIVE: { health: 'pass', healthCode: 200, gate: true, ready: 200 },
  OBSERVE_ONLY: { health: 'warn', healthCode: 200, gate: false, ready: 200 },
  SHUTDOWN: { health: 'fail', healthCode: 503, gate: false, ready: 200 },
};

const STATES = Object.keys(EXPECTED) as LifecycleState[];

describe.each(STATES)('in %s', (state) => {
  const expected = EXPECTED[state];

  it('GET /api/health gives the health+json verdict with its checks', async () => {
    current = await apiIn(state);
    expect(current.h.gov.getState()).toBe(state);
    const res = await request(current.api.url, '/api/health');
    expect(res.status).toBe(expected.healthCode);
    expect(res.headers.get('content-type')).toBe('application/health+json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = res.json();
    expect(body.status).toBe(expected.health);
    expect(body.mode).toBe(state);
    const checks = body.checks as Record<string, Array<Record<string, unknown>>>;
    expect(Object.keys(checks).sort()).toEqual([
      'governor:gate',
      'governor:mode',
      'heartbeat:age',
      'system:health',
    ]);
    expect(checks['governor:mode']?.[0]?.observedValue).toBe(state);
    expect(checks['governor:gate']?.[0]?.observedValue).toBe(expected.gate);
    if (expected.health === 'pass') expect(body.output).toBeUndefined();
    else expect(typeof body.output).toBe('string');
  });

  it('GET /api/health/status gives mode, cause, lifecycle, health, fail-safe, heartbeat, report, alerts', async () => {
    current = await apiIn(state);
    const res = await request(current.api.url, '/api/health/status');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = res.json();
    expect(body.mode).toBe(state);
    expect(body.gateOpen).toBe(expected.gate);
    const failSafe = body.failSafe as Record<string, unknown>;
    expect(failSafe.inShutdown).toBe(state === 'SHUTDOWN');
    expect(failSafe.latched).toBe(state === 'SHUTDOWN');
    expect(body.trigger).toBe(state === 'SHUTDOWN' ? 'MARKET_DATA_STALL' : null);
    expect(body.cause).toBe(state === 'OBSERVE_ONLY' ? 'OPERATOR' : null);
    expect((body.health as Record<string, unknown>).healthy).toBe(true);
    expect(Object.keys(body.inputAgesMs as object).sort()).toEqual([
      'eventLogWrite',
      'marketData',
      'snapshotWrite',
    ]);
    const heartbeatExpected = state === 'STARTING' ? null : 0;
    expect(body.heartbeatAgeMs).toBe(heartbeatExpected);
    const settled = state === 'AGGRESSIVE' || state === 'OBSERVE_ONLY' || state === 'SHUTDOWN';
    expect(body.lastStartupReport === null).toBe(!settled);
    expect(body.unacknowledgedAlerts).toBe(state === 'SHUTDOWN' ? 1 : 0);
    expect(body.unacknowledgedAlertsBySeverity).toEqual({
      CRITICAL: state === 'SHUTDOWN' ? 1 : 0,
      WARNING: 0,
      INFO: 0,
    });
    expect(body.eventLogHeadSeq).toBe(current.h.gov.engine.events.head()?.seq ?? 0);
    expect(body.lifecycleId).toBe(current.h.gov.getLifecycleId());
  });

  it('GET /api/health/uptime gives the uptime in ms, seconds and the spec format', async () => {
    current = await apiIn(state);
    current.h.clock.skip(90_500);
    const res = await request(current.api.url, '/api/health/uptime');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ uptimeMs: 90_500, uptimeSeconds: 90, uptime: '1m' });
  });

  it('GET /api/health/last_snapshot is 404 JSON before any snapshot, then the latest one', async () => {
    current = await apiIn(state);
    const none = await request(current.api.url, '/api/health/last_snapshot');
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(none.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'no snapshot has been written yet',
    });
    current.h.gov.engine.snapshots.write({ date: '2025-12-16', data: { equityMinor: 1 } });
    current.h.gov.engine.snapshots.write({ date: '2025-12-17', data: { equityMinor: 2 } });
    const latest = await request(current.api.url, '/api/health/last_snapshot');
    expect(latest.status).toBe(200);
    const body = latest.json();
    expect(body.date).toBe('2025-12-17');
    expect(body.data).toEqual({ equityMinor: 2 });
    expect(typeof body.writtenAt).toBe('string');
  });

  it('GET /livez is always 200; GET /readyz is 200 once the lifecycle has settled, gate or not', async () => {
    current = await apiIn(state);
    const live = await request(current.api.url, '/livez');
    expect(live.status).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await request(current.api.url, '/readyz');
    expect(ready.status).toBe(expected.ready);
    expect(ready.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = ready.json();
    expect(body.ready).toBe(expected.ready === 200);
    expect(body.mode).toBe(state);
    expect(body.checks).toEqual({
      store: 'ok',
      lifecycle:
        expected.ready === 200 ? 'settled' : expect.stringMatching(new RegExp(`^${state}: `)),
    });
    if (expected.ready === 200) expect(body.reason).toBeNull();
    else expect(body.reason).toMatch(new RegExp(`^${state}: `));
  });

  it('GET /api/health/gate is 200 only while capital may be deployed, with the reason', async () => {
    current = await apiIn(state);
    const gate = await request(current.api.url, '/api/health/gate');
    expect(gate.status).toBe(expected.gate ? 200 : 503);
    expect(gate.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(gate.json()).toEqual({
      open: expected.gate,
      mode: state,
      reason: current.h.gov.authorize().reason,
    });
  });

  it('GET /metrics reports this state as the one mode set to 1', async () => {
    current = await apiIn(state);
    const res = await request(current.api.url, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const other of STATES) {
      expect(res.text).toContain(`governor_mode{state="${other}"} ${other === state ? 1 : 0}\n`);
    }
    expect(res.text).toContain(`governor_gate_open ${expected.gate ? 1 : 0}\n`);
    expect(res.text).toContain(
      `governor_alerts_unacknowledged{severity="CRITICAL"} ${state === 'SHUTDOWN' ? 1 : 0}\n`,
    );
  });

  it('GET / serves the self-contained status page with the state in its initial view', async () => {
    current = await apiIn(state);
    const res = await request(current.api.url, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.text).toContain(`"mode":"${state}"`);
    expect(res.text).toContain(`data-state="${state}"`);
    expect(res.text).not.toMatch(/\b(src|href)="https?:/);
  });
});

describe('methods and paths', () => {
  it('answers every other method with 405, Allow: GET, HEAD and a JSON body, on every path', async () => {
    current = await apiIn('AGGRESSIVE');
    for (const path of [...API_PATHS, '/no/such/path']) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const res = await request(current.api.url, path, {
          method,
          body: method === 'POST' ? '{}' : null,
        });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
        expect(res.json().statusCode).toBe(405);
      }
    }
    expect(current.h.gov.getState()).toBe('AGGRESSIVE');
  });

  it('answers HEAD like GET (status and headers) without a body', async () => {
    current = await apiIn('SHUTDOWN');
    for (const path of [...API_PATHS, '/no/such/path']) {
      const res = await fetch(`${current.api.url}${path}`, { method: 'HEAD' });
      const body = await res.text();
      expect(body, path).toBe('');
      if (path === '/api/health/stream') {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
        continue;
      }
      const get = await request(current.api.url, path);
      expect(res.status, path).toBe(get.status);
      expect(res.headers.get('content-type'), path).toBe(get.headers.get('content-type'));
    }
  });

  it('answers unknown paths, trailing slashes and encoded variants with 404 JSON; ignores queries', async () => {
    current = await apiIn('AGGRESSIVE');
    for (const path of [
      '/api',
      '/api/health/',
      '/API/HEALTH',
      '/api/health%2Fstatus',
      '/metrics/x',
      '/favicon.ico',
    ]) {
      const res = await request(current.api.url, path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }
    const withQuery = await request(current.api.url, '/api/health?verbose=1');
    expect(withQuery.status).toBe(200);
  });
});

describe('a :memory: governor', () => {
  it('is read through the governance object (no second connection can see it)', async () => {
    const gov = new GovernanceSystem({ dbPath: ':memory:', clock: new SimulatedClock() });
    await gov.runStartupChecks();
    gov.engine.snapshots.write({ date: '2025-12-17', data: { ok: true } });
    const api = await startApiServer({ governance: gov });
    try {
      const snapshot = await request(api.url, '/api/health/last_snapshot');
      expect(snapshot.status).toBe(200);
      expect(snapshot.json().data).toEqual({ ok: true });
      const status = await request(api.url, '/api/health/status');
      expect(status.json().eventLogHeadSeq).toBe(gov.engine.events.head()?.seq);
    } finally {
      await api.close();
      gov.close();
    }
  });
});

describe('readiness means "this process serves", not "the gate is open"', () => {
  it('a governor configured OBSERVE_ONLY is Ready (it used to be never Ready: the gate never opens)', async () => {
    const h = makeHarness({ desiredMode: 'OBSERVE_ONLY' });
    const api = await startApiServer({ governance: h.gov });
    try {
      await h.gov.runStartupChecks();
      expect(h.gov.getState()).toBe('OBSERVE_ONLY');
      expect((await request(api.url, '/readyz')).status).toBe(200);
      expect((await request(api.url, '/api/health/gate')).status).toBe(503);
    } finally {
      await api.close();
      h.cleanup();
    }
  });

  it('an incident keeps the status page in its Service: Ready through SHUTDOWN, NotReady while the restart checks run', async () => {
    current = await apiIn('AGGRESSIVE');
    const gov = current.h.gov;
    gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'feed stalled');
    expect((await request(current.api.url, '/readyz')).status).toBe(200);
    expect((await request(current.api.url, '/')).status).toBe(200);
    gov.healthMonitor.updateMarketDataTimestamp();
    gov.operatorRestart({ operator: 'ann', reason: 'feed back' });
    expect(gov.getState()).toBe('STARTING');
    expect((await request(current.api.url, '/readyz')).status).toBe(503);
    await gov.runStartupChecks();
    expect(gov.getState()).toBe('AGGRESSIVE');
    expect((await request(current.api.url, '/readyz')).status).toBe(200);
  });

  it('a closed governor is not Ready: its store no longer answers', async () => {
    current = await apiIn('AGGRESSIVE');
    current.h.gov.close();
    const ready = await request(current.api.url, '/readyz');
    expect(ready.status).toBe(503);
    const body = ready.json();
    expect(body.ready).toBe(false);
    expect((body.checks as { store: string }).store).not.toBe('ok');
    expect(body.reason).toMatch(/^the database cannot be read: /);
    expect((await request(current.api.url, '/livez')).status).toBe(200);
  });
});
