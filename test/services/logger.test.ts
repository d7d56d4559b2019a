/**
 * Goal: every log line is an object with one key per fact. A component logger made under
 * another (the governor's `alerts` and `machine` children) wrote `"component":"governor",
 * "component":"alerts"` in one line, which strict JSON parsers refuse; now each line has
 * exactly one `component`, the path from the outermost (`governor.alerts`).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../services/clock.js';
import { GovernanceSystem } from '../../services/governor/governance-system.js';
import { componentLogger, type Logger } from '../../services/logger.js';

/** The keys of a JSON object's top level, in order, duplicates kept. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectingKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectingKey) keys.push(JSON.parse(text.slice(i, end + 1)) as string);
      expectingKey = false;
      i = end;
    } else if (char === '{' || char === '[') {
      depth++;
      expectingKey = depth === 1;
    } else if (char === '}' || char === ']') {
      depth--;
    } else if (char === ',' && depth === 1) {
      expectingKey = true;
    }
  }
  return keys;
}

/** JSON.parse that refuses an object whose top level repeats a key. */
function strictParse(line: string): Record<string, unknown> {
  const keys = topLevelKeys(line);
  const repeated = keys.filter((key, index) => keys.indexOf(key) !== index);
  if (repeated.length > 0) throw new SyntaxError(`duplicate key(s) ${repeated.join(', ')}`);
  return JSON.parse(line) as Record<string, unknown>;
}

function capture(): { root: Logger; lines: () => Array<Record<string, unknown>> } {
  const written: string[] = [];
  const root = pino({ name: 'governor', level: 'info' }, { write: (s: string) => written.push(s) });
  return {
    root,
    lines: () => written.map((line) => strictParse(line.trim())),
  };
}

describe('strictParse (the checker)', () => {
  it('refuses a repeated top-level key and accepts the same key at different depths', () => {
    expect(() => strictParse('{"component":"governor","component":"alerts"}')).toThrow(
      /duplicate key\(s\) component/,
    );
    expect(strictParse('{"a":{"a":1,"b":[{"a":2}]},"b":"a,\\"a\\":3","c":[1,{"a":4}]}')).toEqual({
      a: { a: 1, b: [{ a: 2 }] },
      b: 'a,"a":3',
      c: [1, { a: 4 }],
    });
  });
});

describe('componentLogger', () => {
  it('writes one component key per line along a chain, the path from the outermost', () => {
    const { root, lines } = capture();
    const governor = componentLogger(root, 'governor');
    const alerts = componentLogger(governor, 'alerts');
    const sink = componentLogger(alerts, 'slack');
    const machine = componentLogger(governor, 'machine');
    for (const logger of [governor, alerts, sink, machine]) logger.info('hello');
    const parsed = lines();
    expect(parsed.map((line) => line.component)).toEqual([
      'governor',
      'governor.alerts',
      'governor.alerts.slack',
      'governor.machine',
    ]);
    for (const line of parsed) {
      expect(line).toMatchObject({ name: 'governor', pid: process.pid, msg: 'hello' });
      expect(line.hostname).toEqual(expect.any(String));
    }
  });

  it('keeps the other bindings, whoever bound the outer component', () => {
    const { root, lines } = capture();
    const engine = root.child({ component: 'engine', requestId: 7 });
    const governor = componentLogger(engine, 'governor');
    const scoped = componentLogger(governor.child({ strategy: 's1' }), 'machine');
    governor.info('one');
    scoped.warn({ from: 'CHECKING', to: 'AGGRESSIVE' }, 'two');
    expect(lines()).toEqual([
      expect.objectContaining({ component: 'engine.governor', requestId: 7, msg: 'one' }),
      expect.objectContaining({
        component: 'engine.governor.machine',
        requestId: 7,
        strategy: 's1',
        from: 'CHECKING',
        to: 'AGGRESSIVE',
        msg: 'two',
      }),
    ]);
  });

  it('leaves the parent untouched and logs at its level', () => {
    const { root, lines } = capture();
    const governor = componentLogger(root, 'governor');
    const alerts = componentLogger(governor, 'alerts');
    alerts.debug('dropped at info');
    governor.info('parent');
    alerts.error('child');
    expect(lines().map((line) => [line.component, line.msg])).toEqual([
      ['governor', 'parent'],
      ['governor.alerts', 'child'],
    ]);
  });

  it("the governor's own lines (machine transitions, alerts) parse strictly", async () => {
    const { root, lines } = capture();
    const gov = new GovernanceSystem({
      dbPath: ':memory:',
      clock: new SimulatedClock(),
      logger: root,
    });
    try {
      await gov.runStartupChecks();
      for (let i = 0; i < 11; i++) gov.healthMonitor.recordError(); // HEALTH_CHECK_FAILED
    } finally {
      gov.close();
    }
    const components = new Set(lines().map((line) => line.component));
    expect(components).toContain('governor.machine');
    expect(components).toContain('governor.alerts');
    expect([...components].every((c) => typeof c === 'string' && c.startsWith('governor'))).toBe(
      true,
    );
  });
});
