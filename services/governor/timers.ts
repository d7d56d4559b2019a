/**
 * What each timer the authority statechart invokes does (machines/timers-machine.ts, and the
 * request watcher at its root): the component started when its actor starts and stopped when
 * the actor stops, all on the injected Clock but the request watcher. Their findings reach the
 * machine through the dispatcher, the one door, as the components' hosts (hosts.ts) send them.
 */
import type { TimerHandle } from '../clock.js';
import type { TimerWork, TimerWorks } from './lifecycle.js';
import type { Runtime } from './runtime.js';
import { checkDataIntegrity } from './startup.js';

/** The timers' work; `pollMs` is the request watcher's period (null: it does not poll). */
export function timerWorks(runtime: Runtime, pollMs: number | null): TimerWorks {
  return {
    heartbeat: { start: () => runtime.heartbeat.start(), stop: () => runtime.heartbeat.stop() },
    fleetLease: { start: () => runtime.fleet?.start(), stop: () => runtime.fleet?.stop() },
    failSafe: { start: () => runtime.failSafe.start(), stop: () => runtime.failSafe.stop() },
    integrityCheck: integrityCheckWork(runtime),
    integrityScrub: { start: () => runtime.scrubber.start(), stop: () => runtime.scrubber.stop() },
    venueSwitches: {
      start: () => runtime.venues.startRenewing(),
      stop: () => runtime.venues.stopRenewing(),
    },
    requestWatcher: {
      // Real time (unref'd): other processes commit on real time; a simulator passes null.
      start: () => {
        if (pollMs !== null) runtime.watcher.start(pollMs);
      },
      stop: () => runtime.watcher.stopPolling(),
    },
  };
}

/**
 * The periodic verification, every `integrityCheckIntervalMs`. Its actor lives as long as the
 * authority actor, so a restart does not reset its period; it skips its work while a latch is
 * in force.
 */
function integrityCheckWork(runtime: Runtime): TimerWork {
  let timer: TimerHandle | undefined;
  let running = false;
  const schedule = (): void => {
    timer = runtime.clock.setTimeout(() => {
      timer = undefined;
      if (!running || runtime.flags.closed) return;
      if (runtime.lifecycle.latch === null) checkDataIntegrity(runtime);
      if (running) schedule();
    }, runtime.thresholds.integrityCheckIntervalMs);
  };
  return {
    start: () => {
      if (running) return;
      running = true;
      schedule();
    },
    stop: () => {
      running = false;
      runtime.clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
