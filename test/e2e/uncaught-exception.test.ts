/**
 * Goal: an engine that embeds governor and dies of an uncaught exception (or of an unhandled
 * rejection, which Node raises as one) leaves a latch. By default governor latches SHUTDOWN
 * (UNRECOVERABLE_EXCEPTION, naming the error) in SQLite before the process dies, and the process
 * dies exactly as Node makes it (exit code 1, the trace on stderr): the next start on that file
 * is SHUTDOWN, not a fresh run to AGGRESSIVE. `latchUncaughtExceptions: false` opts out.
 */
import { describe, expect, it } from 'vitest';
import { GovernanceSystem, silentLogger } from '../../index.js';
import { type CliSandbox, perTestResources } from './cli-harness.js';
import { type EngineChild, startTradingEngine } from './engine-harness.js';

const { sandbox } = perTestResources();

/** Makes the trading engine die with `command` (throw or reject) and waits for the exit. */
async function dieOf(engine: EngineChild, command: 'throw' | 'reject', message: string) {
  engine.send(`${command} ${message}`);
  const code = await engine.exited;
  return { code, stderr: engine.stderrText };
}

/** The next start of governor on the file: its state and latch, read through the public API. */
function nextStart(box: CliSandbox) {
  const governance = new GovernanceSystem({ dbPath: box.dbPath, logger: silentLogger() });
  try {
    return { state: governance.getState(), latch: governance.getLatch() };
  } finally {
    governance.close();
  }
}

describe('an uncaught exception in an engine that embeds governor', () => {
  it('regression: an engine that died of an uncaught exception recorded nothing, and its next start ran to AGGRESSIVE; now the next start is SHUTDOWN with UNRECOVERABLE_EXCEPTION naming the error', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    const { code, stderr } = await dieOf(engine, 'throw', 'order book exploded');
    // Node's own handling, unchanged: exit code 1 and the trace on stderr.
    expect(code, engine.describe()).toBe(1);
    expect(stderr).toMatch(/Error: order book exploded\n\s+at /);
    const next = nextStart(box);
    expect(next.state).toBe('SHUTDOWN');
    expect(next.latch).toMatchObject({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: 'uncaught exception: order book exploded',
    });
  });

  it('an unhandled rejection (raised by Node as an uncaught exception) latches the same way, naming it', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    const { code, stderr } = await dieOf(engine, 'reject', 'venue refused the order');
    expect(code, engine.describe()).toBe(1);
    expect(stderr).toMatch(/Error: venue refused the order/);
    expect(nextStart(box)).toMatchObject({
      state: 'SHUTDOWN',
      latch: {
        trigger: 'UNRECOVERABLE_EXCEPTION',
        reason: 'unhandled rejection: venue refused the order',
      },
    });
  });

  it('with latchUncaughtExceptions: false the engine dies the same way and leaves no latch', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box, { latchUncaughtExceptions: false });
    const { code, stderr } = await dieOf(engine, 'throw', 'order book exploded');
    expect(code, engine.describe()).toBe(1);
    expect(stderr).toMatch(/Error: order book exploded\n\s+at /);
    const next = nextStart(box);
    expect(next.latch).toBeNull();
    expect(next.state).not.toBe('SHUTDOWN');
  });
});
