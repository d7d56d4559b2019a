/**
 * A model checker for the authority statechart (the lifecycle invoked as a child, `halted` after
 * its SHUTDOWN): explores every reachable state with `xstate/graph` over the full event alphabet
 * (every lifecycle event, `operator.restart` with each pre-flight verdict and force,
 * `timers.start`, and the child's done and error events) and checks that only a passed or
 * forced restart leaves the latch.
 */
import {
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createMachine,
} from 'xstate';
import { type AdjacencyMap, getAdjacencyMap } from 'xstate/graph';
import {
  type AuthorityContext,
  GOVERNOR_EVENT_TYPES,
  type GovernorContext,
  type GovernorInput,
  type ShutdownLatch,
} from '../../machines/index.js';

export const AUTHORITY_PROPERTIES = {
  A1: 'every edge out of halted (the latch) is operator.restart with a passed or forced pre-flight',
  A2: 'running reaches halted only when the lifecycle ends (its final SHUTDOWN)',
  A3: 'operator.restart is handled only in halted, and a restart begins the lifecycle it names',
  A4: 'halted and running are both reachable, and a restart leads from halted to running',
} as const;
export type AuthorityPropertyName = keyof typeof AUTHORITY_PROPERTIES;

export interface AuthorityEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly event: AnyEventObject;
  readonly toContext: AuthorityContext;
  /** True when the edge changed the state or the lifecycle (a new one began, or one ended). */
  readonly changed: boolean;
}

export interface AuthorityViolation {
  readonly property: AuthorityPropertyName;
  readonly where: string;
}

const AT = '2026-01-01T00:00:00.000Z';
const OPERATOR = { operator: 'alice', reason: 'model check', at: AT } as const;
const LATCH: ShutdownLatch = { trigger: 'MARKET_DATA_STALL', reason: 'no market data', at: AT };
export const RESTARTED_LIFECYCLE_ID = 'lifecycle-restarted';

function inputFor(latch: ShutdownLatch | null): GovernorInput {
  return {
    lifecycleId: 'lifecycle-model',
    configuredMode: 'AGGRESSIVE',
    desiredMode: 'AGGRESSIVE',
    latch,
    hold: null,
    startupChecksTimeoutMs: 1_000,
  };
}

/** The lifecycle's last context as its end (SHUTDOWN) hands it over. */
function endedContext(): GovernorContext {
  return {
    ...inputFor(LATCH),
    hold: null,
    visit: 1,
    report: null,
    observeCause: null,
    causeReason: LATCH.reason,
    causeHeld: false,
    shutdown: LATCH,
  };
}

/** Every event either machine handles, with the restart's verdict and force spelled out. */
export function authorityAlphabet(): Array<{ label: string; event: AnyEventObject }> {
  const lifecycleEvents = GOVERNOR_EVENT_TYPES.map((type) => ({
    label: type,
    event: {
      type,
      ...OPERATOR,
      ...(type === 'failsafe.triggered' ? { trigger: 'HEALTH_CHECK_FAILED' } : {}),
    },
  }));
  const restarts = [true, false].flatMap((passed) =>
    [true, false].map((force) => ({
      label: `operator.restart(${passed ? 'passed' : 'failed'}${force ? ', forced' : ''})`,
      event: {
        type: 'operator.restart',
        ...OPERATOR,
        lifecycleId: RESTARTED_LIFECYCLE_ID,
        preflight: { passed },
        force,
        authority: { desiredMode: 'AGGRESSIVE', latch: null, hold: null },
      },
    })),
  );
  return [
    ...lifecycleEvents,
    ...restarts,
    // The timers' start, handled at the root in either state: it must change neither.
    { label: 'timers.start', event: { type: 'timers.start', at: AT } },
    {
      label: 'done.lifecycle',
      event: { type: 'xstate.done.actor.lifecycle', output: endedContext() },
    },
    {
      label: 'error.lifecycle',
      event: { type: 'xstate.error.actor.lifecycle', error: new Error('model') },
    },
  ];
}

function stateOf(snapshot: AnyMachineSnapshot): string {
  return String(snapshot.value);
}

function keyOf(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as AuthorityContext;
  return `${stateOf(snapshot)}|${snapshot.status}|${context.lifecycle.lifecycleId}|${context.ended === null ? '-' : 'ended'}`;
}

/**
 * Explores from both starts: a clean record, and a latch that survived the process restart. The
 * lifecycle is abstracted (its own model check covers it): its end is `done.lifecycle` in the
 * alphabet, and the forwarding of its events (and of `timers.start`) is provided as a no-op.
 */
export function exploreAuthority(given: AnyStateMachine): AuthorityEdge[] {
  const machine = given.provide({
    actions: { forwardToLifecycle: () => {}, forwardToTimers: () => {} },
    actors: { lifecycle: createMachine({ id: 'lifecycle-abstract' }) },
  });
  const alphabet = authorityAlphabet();
  const labels = new WeakMap<AnyEventObject, string>();
  for (const entry of alphabet) labels.set(entry.event, entry.label);
  const edges: AuthorityEdge[] = [];
  for (const latch of [null, LATCH]) {
    const adjacency: AdjacencyMap<AnyMachineSnapshot, AnyEventObject> = getAdjacencyMap(machine, {
      input: inputFor(latch),
      // The lifecycle's done and error events come only from a running lifecycle.
      events: (snapshot: AnyMachineSnapshot) =>
        alphabet
          .filter((entry) => snapshot.value === 'running' || !entry.label.endsWith('.lifecycle'))
          .map((entry) => entry.event),
      serializeState: keyOf,
      serializeEvent: (event: AnyEventObject) => labels.get(event) ?? event.type,
    });
    for (const { state, transitions } of Object.values(adjacency)) {
      for (const { event, state: next } of Object.values<{
        event: AnyEventObject;
        state: AnyMachineSnapshot;
      }>(transitions)) {
        edges.push({
          from: stateOf(state),
          to: stateOf(next),
          label: labels.get(event) ?? event.type,
          event,
          toContext: next.context as AuthorityContext,
          changed: keyOf(state) !== keyOf(next),
        });
      }
    }
  }
  return edges;
}

function restartAllowed(event: AnyEventObject): boolean {
  const restart = event as { preflight?: { passed?: unknown }; force?: unknown };
  return (
    event.type === 'operator.restart' &&
    (restart.preflight?.passed === true || restart.force === true)
  );
}

function describe(edge: AuthorityEdge): string {
  return `${edge.from} --${edge.label}--> ${edge.to}`;
}

export function checkAuthorityModel(machine: AnyStateMachine): {
  edges: readonly AuthorityEdge[];
  violations: readonly AuthorityViolation[];
} {
  const edges = exploreAuthority(machine);
  const violations: AuthorityViolation[] = [];
  for (const edge of edges) {
    const where = describe(edge);
    // Any change from halted is a way out (a re-entry would begin a lifecycle too).
    const leftHalted = edge.from === 'halted' && edge.changed;
    if (leftHalted && !restartAllowed(edge.event)) violations.push({ property: 'A1', where });
    if (edge.from === 'running' && edge.to === 'halted' && edge.label !== 'done.lifecycle') {
      violations.push({ property: 'A2', where });
    }
    if (edge.event.type === 'operator.restart') {
      const began =
        edge.to === 'running' && edge.toContext.lifecycle.lifecycleId === RESTARTED_LIFECYCLE_ID;
      const restarted = edge.from === 'halted' && edge.to === 'running' && began;
      if (edge.changed && !restarted) violations.push({ property: 'A3', where });
    }
  }
  const restartEdge = edges.some(
    (edge) => edge.from === 'halted' && edge.to === 'running' && restartAllowed(edge.event),
  );
  const states = new Set(edges.flatMap((edge) => [edge.from, edge.to]));
  if (!states.has('halted') || !states.has('running') || !restartEdge) {
    violations.push({ property: 'A4', where: [...states].sort().join(', ') });
  }
  return { edges, violations };
}
