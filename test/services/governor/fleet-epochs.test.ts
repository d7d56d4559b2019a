/**
 * Goal: the fleet link's memory of epochs (`fleetEpochMemory`) reads what the database holds,
 * imports an earlier version's side file once and removes it, leaves an unreadable one where it
 * is and says so, reports rows removed outside governor and keeps the higher epoch, and writes a
 * FLEET_EPOCHS_ESTABLISHED event only when something changed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FLEET_EPOCHS_EVENT } from '../../../persistence/fleet/remembered-epochs.js';
import { Store } from '../../../persistence/index.js';
import { SimulatedClock } from '../../../services/clock.js';
import { fleetEpochMemory } from '../../../services/governor/fleet-epochs.js';
import type { Logger } from '../../../services/logger.js';
import { rawConnection, tempDatabasePath } from '../../persistence/helpers.js';

interface LogLine {
  level: number;
  msg: string;
}

const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

function open(path: string): Store {
  const store = Store.open(path);
  stores.push(store);
  return store;
}

function epochEvents(store: Store): number {
  return [...store.events.iterate()].filter((event) => event.eventType === FLEET_EPOCHS_EVENT)
    .length;
}

describe('fleetEpochMemory', () => {
  it('remembers nothing on a new database, and remembers what it is told', () => {
    const path = tempDatabasePath();
    const store = open(path);
    const { logger } = recordingLogger();
    const memory = fleetEpochMemory(store, path, new SimulatedClock(), logger);
    expect(memory.read()).toBeNull();
    memory.remember({ firm: 3, 'firm/desk-a': 5 }, 'established');
    expect(memory.read()).toEqual({ firm: 3, 'firm/desk-a': 5 });
    expect(epochEvents(store)).toBe(1);
  });

  it('writes no event when nothing rose: an epoch never falls, and repeating one is not news', () => {
    const path = tempDatabasePath();
    const store = open(path);
    const memory = fleetEpochMemory(store, path, new SimulatedClock(), recordingLogger().logger);
    memory.remember({ firm: 4 }, 'established');
    memory.remember({ firm: 4 }, 'established again');
    memory.remember({ firm: 2 }, 'an older answer');
    expect(memory.read()).toEqual({ firm: 4 });
    expect(epochEvents(store)).toBe(1);
  });

  it('imports the side file of an earlier version once, then removes it', () => {
    const path = tempDatabasePath();
    const sideFile = `${path}.fleet-epochs.json`;
    writeFileSync(sideFile, JSON.stringify({ epochs: { firm: 7, bogus: -1, also: 'x' } }));
    const store = open(path);
    const { logger, lines } = recordingLogger();
    const memory = fleetEpochMemory(store, path, new SimulatedClock(), logger);
    expect(memory.read()).toEqual({ firm: 7 });
    expect(existsSync(sideFile)).toBe(false);
    expect(lines.some((line) => line.msg.includes('imported from the side file'))).toBe(true);
    expect(memory.read()).toEqual({ firm: 7 });
    expect(epochEvents(store)).toBe(1);
  });

  it('leaves an unreadable side file where it is and says so, remembering what the database holds', () => {
    const path = tempDatabasePath();
    const sideFile = `${path}.fleet-epochs.json`;
    writeFileSync(sideFile, '{ not json');
    const store = open(path);
    const { logger, lines } = recordingLogger();
    const memory = fleetEpochMemory(store, path, new SimulatedClock(), logger);
    memory.remember({ firm: 2 }, 'established');
    expect(memory.read()).toEqual({ firm: 2 });
    expect(existsSync(sideFile)).toBe(true);
    const errors = lines.filter((line) => line.level >= 50);
    expect(errors.some((line) => line.msg.includes('unreadable'))).toBe(true);
  });

  it('keeps an epoch whose row was deleted outside governor, from the event log, and reports it', () => {
    const path = tempDatabasePath();
    const store = open(path);
    const { logger, lines } = recordingLogger();
    const memory = fleetEpochMemory(store, path, new SimulatedClock(), logger);
    memory.remember({ firm: 9 }, 'established');
    const raw = rawConnection(path);
    raw.prepare('DELETE FROM fleet_epochs').run();
    raw.close();
    expect(memory.read()).toEqual({ firm: 9 });
    expect(
      lines.some((line) => line.level >= 50 && line.msg.includes('fleet_epochs holds less')),
    ).toBe(true);
    // The next remembrance writes the row back.
    memory.remember({ firm: 9 }, 'established');
    const check = rawConnection(path, { readonly: true });
    const rows = check.prepare('SELECT scope, epoch FROM fleet_epochs').all();
    check.close();
    expect(rows).toEqual([{ scope: 'firm', epoch: 9 }]);
  });
});
