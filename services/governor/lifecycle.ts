/**
 * The lifecycle: the one running instance of the authority statechart (the lifecycle statechart
 * as its invoked child, and the restart out of its SHUTDOWN). It owns the actor, gives the
 * machines their effects, sends them every event (`send`, the one dispatcher), and answers every
 * question about the mode from the snapshots: the state, the cause, the latch, the report. The
 * timers and the request watcher run as the authority statechart's invoked actors.
 */
import {
  type Actor,
  type ActorOptions,
  type AnyActorRef,
  createActor,
  fromCallback,
  fromPromise,
  type InspectionEvent,
  type Subscription,
} from 'xstate';
import { type AuthorityMachine, authorityMachine } from '../../machines/authority-machine.js';
import { governorMachine, type StartupChecksInput } from '../../machines/governor-machine.js';
import { type TimerActorId, timersMachine } from '../../machines/timers-machine.js';
import type {
  AuthorityEvent,
  GovernorContext,
  GovernorEvent,
  GovernorInput,
  LifecycleState,
  OperatorRestartEvent,
  ShutdownLatch,
  StartupReport,
} from '../../machines/types.js';
import type { Clock } from '../clock.js';
import { assert } from '../errors.js';

/** What the machine's effects are, given by the GovernanceSystem. */
export interface LifecycleHost {
  enter(from: LifecycleState, to: LifecycleState, context: GovernorContext): void;
  /** The machine settled after a macrostep: its snapshot now shows the state entered. */
  settled(): void;
  /** The authority statechart left `halted` on an operator's restart, into this lifecycle. */
  restarted(event: OperatorRestartEvent): void;
  openGate(): void;
  closeGate(): void;
  /** The chart's verdict on a loss (heartbeat, fleet authority): raise its incident, found in `state`. */
  alertFailure(event: GovernorEvent, state: LifecycleState): void;
  /** The chart's verdict on a loss held already: no new incident. */
  lossHeld(event: GovernorEvent): void;
  startupChecks(input: StartupChecksInput): Promise<StartupReport>;
  /** The actor failed (a bug in an action): the host fails safe. */
  failed(error: unknown): void;
}

/** What an invoked timer does: starts when its actor starts, stops when its actor stops. */
export interface TimerWork {
  start(): void;
  stop(): void;
}

/** The work of each invoked timer of the machines, and of the request watcher. */
export type TimerWorks = Readonly<Record<TimerActorId | 'requestWatcher', TimerWork>>;

/** An invoked actor that runs `work` for as long as the actor lives. */
function invokedTimer(work: TimerWork) {
  return fromCallback(() => {
    work.start();
    return () => work.stop();
  });
}

const SETTLED_STATES: ReadonlySet<LifecycleState> = new Set([
  'AGGRESSIVE',
  'OBSERVE_ONLY',
  'SHUTDOWN',
]);

type AuthorityActor = Actor<AuthorityMachine>;

export class Lifecycle {
  private readonly machine: AuthorityMachine;
  private actor: AuthorityActor | null = null;
  /** The running lifecycle (the invoked child) this class listens to, and its subscription. */
  private child: AnyActorRef | null = null;
  private childSubscription: Subscription | null = null;
  /** Told after every step of either machine (settled waiters). */
  private readonly stepWaiters = new Set<() => void>();
  /** The state the last entry action entered: the `from` of the next transition. */
  private entered: LifecycleState = 'STARTING';

  constructor(
    private readonly host: LifecycleHost,
    private readonly clock: Clock,
    private readonly inspect: (event: InspectionEvent) => void,
    works: TimerWorks,
  ) {
    const enter =
      (to: LifecycleState) =>
      ({ context }: { context: GovernorContext }): void => {
        const from = this.entered;
        this.entered = to;
        host.enter(from, to, context);
      };
    const lifecycle = governorMachine.provide({
      actions: {
        onEnterChecking: enter('CHECKING'),
        onEnterAggressive: enter('AGGRESSIVE'),
        onEnterObserveOnly: enter('OBSERVE_ONLY'),
        onEnterShutdown: enter('SHUTDOWN'),
        openGate: () => host.openGate(),
        closeGate: () => host.closeGate(),
        alertFailure: ({ event }, params) => host.alertFailure(event, params.state),
        noteLossHeld: ({ event }) => host.lossHeld(event),
      },
      actors: {
        startupChecks: fromPromise<StartupReport, StartupChecksInput>(({ input }) =>
          host.startupChecks(input),
        ),
      },
    });
    const timers = timersMachine.provide({
      actors: {
        heartbeat: invokedTimer(works.heartbeat),
        fleetLease: invokedTimer(works.fleetLease),
        failSafe: invokedTimer(works.failSafe),
        integrityCheck: invokedTimer(works.integrityCheck),
        integrityScrub: invokedTimer(works.integrityScrub),
        venueSwitches: invokedTimer(works.venueSwitches),
      },
    });
    this.machine = authorityMachine.provide({
      actions: {
        onRestart: ({ event }) => {
          if (event.type !== 'operator.restart') return;
          // The new lifecycle's entry actions follow; its first `from` is STARTING.
          this.entered = 'STARTING';
          host.restarted(event);
        },
      },
      actors: { lifecycle, timers, requestWatcher: invokedTimer(works.requestWatcher) },
    });
  }

  /** Starts the authority statechart with a lifecycle at STARTING (SHUTDOWN at once on a latch). */
  begin(input: GovernorInput): void {
    this.stop();
    this.child = null;
    this.entered = 'STARTING';
    const actor = createActor(this.machine, {
      input,
      clock: this.clock as unknown as NonNullable<ActorOptions<AuthorityMachine>['clock']>,
      inspect: this.inspect,
    });
    actor.subscribe({
      next: () => this.stepped(),
      complete: () => this.stepped(),
      error: (error) => this.host.failed(error),
    });
    this.actor = actor;
    actor.start();
  }

  /** Stops the actors and with them every timer (no effect runs); the last snapshots still answer. */
  stop(): void {
    this.childSubscription?.unsubscribe();
    this.childSubscription = null;
    this.actor?.stop();
  }

  /** After every step of either machine: follow a new lifecycle child, then tell the host. */
  private stepped(): void {
    const child = this.runningChild();
    if (child !== null && child !== this.child) {
      this.childSubscription?.unsubscribe();
      this.child = child;
      this.childSubscription = child.subscribe({
        next: () => this.stepped(),
        // The lifecycle's failure reaches the authority statechart, which fails with it: the
        // host hears of it once, from there.
        error: () => {},
      });
    }
    this.host.settled();
    for (const waiter of [...this.stepWaiters]) waiter();
  }

  private root() {
    assert(this.actor !== null, 'no lifecycle has begun');
    return this.actor.getSnapshot();
  }

  /** The running lifecycle (the invoked child), or null while halted. */
  private runningChild(): AnyActorRef | null {
    if (this.actor === null) return null;
    const snapshot = this.actor.getSnapshot();
    if (snapshot.value !== 'running') return null;
    // A stopped actor (closed governor) lists no children: its last lifecycle still answers.
    const child: AnyActorRef | undefined = snapshot.children.lifecycle;
    return child ?? this.child;
  }

  /** The lifecycle's snapshot: the running child's, or the ended one's while halted. */
  private lifecycleSnapshot(): { value: LifecycleState; context: GovernorContext } {
    const root = this.root();
    const child = this.runningChild();
    if (child !== null) {
      const snapshot = child.getSnapshot() as { value: LifecycleState; context: GovernorContext };
      return { value: snapshot.value, context: snapshot.context };
    }
    const ended = root.context.ended;
    assert(ended !== null, 'the authority statechart is halted with no lifecycle');
    return { value: 'SHUTDOWN', context: ended };
  }

  /** Whether the authority statechart is halted: the last lifecycle ended in SHUTDOWN. */
  get halted(): boolean {
    return this.root().value === 'halted';
  }

  get state(): LifecycleState {
    return this.lifecycleSnapshot().value;
  }

  get context(): GovernorContext {
    return this.lifecycleSnapshot().context;
  }

  /** The latch in force: this lifecycle's SHUTDOWN, or null. */
  get latch(): ShutdownLatch | null {
    const snapshot = this.lifecycleSnapshot();
    return snapshot.value === 'SHUTDOWN' ? snapshot.context.shutdown : null;
  }

  /** Whether the machines, in their current states, handle this event (with its guards). */
  accepts(event: AuthorityEvent): boolean {
    if (this.actor === null) return false;
    if (event.type === 'operator.restart') return this.root().can(event);
    const child = this.runningChild();
    if (child === null) return false;
    const snapshot = child.getSnapshot() as { can(event: AuthorityEvent): boolean };
    return snapshot.can(event);
  }

  /** Hands one event to the authority statechart (the shell's one caller: dispatcher.ts). */
  send(event: AuthorityEvent): void {
    this.actor?.send(event);
  }

  /** Resolves with the state once the machine settles (AGGRESSIVE, OBSERVE_ONLY or SHUTDOWN). */
  settled(): Promise<LifecycleState> {
    if (this.actor === null) return Promise.resolve('STARTING');
    return new Promise((resolve) => {
      const check = (): boolean => {
        const stopped = this.actor?.getSnapshot().status !== 'active';
        const current = this.state;
        if (!stopped && !SETTLED_STATES.has(current)) return false;
        this.stepWaiters.delete(waiter);
        resolve(current);
        return true;
      };
      const waiter = (): void => {
        check();
      };
      if (!check()) this.stepWaiters.add(waiter);
    });
  }
}
