/**
 * Goal: services/governor/assembly.ts builds a running governor that begins from the record (a
 * latch recorded by the last process is SHUTDOWN at once), and takes it down in two ways: a
 * close records GOVERNOR_STOPPED and the input ages, releases the owner and is idempotent; a
 * simulated crash writes nothing. Both free the file for the next owner and shut the gate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { requestShutdown } from '../../../services/governor/dispatcher.js';
import { runStartupChecks } from '../../../services/governor/startup.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

function eventTypes(dbPath: string): string[] {
  const reader = Store.open(dbPath, { readonly: true });
  try {
    return [...reader.events.iterate(1)].map((event) => event.eventType);
  } finally {
    reader.close();
  }
}

describe('the assembly', () => {
  it('begins from the record: a latch the last process recorded is SHUTDOWN at once', () => {
    fixture = openRuntime();
    requestShutdown(fixture.runtime, { trigger: 'OPERATOR_KILL', reason: 'end of day' });
    fixture.runtime.close();
    const next = fixture.reopen();
    expect(next.lifecycle.state).toBe('SHUTDOWN');
    expect(next.lifecycle.latch).toMatchObject({ trigger: 'OPERATOR_KILL', reason: 'end of day' });
  });

  it('closes once: the stop recorded, the owner released, the gate shut', async () => {
    fixture = openRuntime();
    const { runtime, dbPath } = fixture;
    await runStartupChecks(runtime);
    expect(runtime.gate.canDeployCapital()).toBe(true);
    runtime.close();
    runtime.close();
    expect(runtime.gate.canDeployCapital()).toBe(false);
    expect(eventTypes(dbPath).filter((type) => type === 'GOVERNOR_STOPPED')).toHaveLength(1);
    const next = fixture.reopen();
    expect(next.lifecycle.state).toBe('STARTING');
  });

  it('crashes like kill -9: nothing written, the file free for the next owner', async () => {
    fixture = openRuntime();
    const { runtime, dbPath } = fixture;
    await runStartupChecks(runtime);
    const before = eventTypes(dbPath).length;
    runtime.crash();
    expect(runtime.gate.canDeployCapital()).toBe(false);
    expect(eventTypes(dbPath).length).toBe(before);
    expect(fixture.reopen().lifecycle.state).toBe('STARTING');
  });

  it('opens no second connection to :memory:', () => {
    fixture = openRuntime({ dbPath: ':memory:' });
    expect(fixture.runtime.openReadOnlyStore()).toBeNull();
  });
});
