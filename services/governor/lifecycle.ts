/**
 * The lifecycle: the one running instance of the statechart. It owns the actor (a new one per
 * lifecycle: at construction, and after each operator restart), gives the machine its effects,
 * and answers every question about the mode from the actor's snapshot: the state, the cause,
 * the latch, the report. Nothing else in governor keeps a copy of them.
 */
import {
  type Actor,
  type ActorOptions,
  createActor,
  fromPromise,
  type InspectionEvent,
} from 'xstate';
import {
  type GovernorMachine,
  governorMachine,
  type StartupChecksInput,
} from '../../machines/governor-machine.js';
import type {
  GovernorContext,
  GovernorEvent,
  GovernorInput,
  LifecycleState,
  ShutdownLatch,
  StartupReport,
} from '../../machines/types.js';
import type { Clock } from '../clock.js';

/** What the machine's effects are, given by the GovernanceSystem. */
export interface LifecycleHost {
  enter(from: LifecycleState, to: LifecycleState, context: GovernorContext): void;
  /** The machine settled after a macrostep: its snapshot now shows the state entered. */
  settled(): void;
  openGate(): void;
  closeGate(): void;
  startupChecks(input: StartupChecksInput): Promise<StartupReport>;
  /** The actor failed (a bug in an action): the host fails safe. */
  failed(error: unknown): void;
}

const SETTLED_STATES: ReadonlySet<LifecycleState> = new Set([
  'AGGRESSIVE',
  'OBSERVE_ONLY',
  'SHUTDOWN',
]);

type GovernorActor = Actor<GovernorMachine>;

export class Lifecycle {
  private readonly machine: GovernorMachine;
  private actor: GovernorActor | null = null;
  /** The state the last entry action entered: the `from` of the next transition. */
  private entered: LifecycleState = 'STARTING';

  constructor(
    private readonly host: LifecycleHost,
    private readonly clock: Clock,
    private readonly inspect: (event: InspectionEvent) => void,
  ) {
    const enter =
      (to: LifecycleState) =>
      ({ context }: { context: GovernorContext }): void => {
        const from = this.entered;
        this.entered = to;
        host.enter(from, to, context);
      };
    this.machine = governorMachine.provide({
      actions: {
        onEnterChecking: enter('CHECKING'),
        onEnterAggressive: enter('AGGRESSIVE'),
        onEnterObserveOnly: enter('OBSERVE_ONLY'),
        onEnterShutdown: enter('SHUTDOWN'),
        openGate: () => host.openGate(),
        closeGate: () => host.closeGate(),
      },
      actors: {
        startupChecks: fromPromise<StartupReport, StartupChecksInput>(({ input }) =>
          host.startupChecks(input),
        ),
      },
    });
  }

  /** Starts a new lifecycle at STARTING (SHUTDOWN at once when `input.latch` is set). */
  begin(input: GovernorInput): void {
    this.stop();
    this.entered = 'STARTING';
    const actor = createActor(this.machine, {
      input,
      clock: this.clock as unknown as NonNullable<ActorOptions<GovernorMachine>['clock']>,
      inspect: this.inspect,
    });
    actor.subscribe({
      next: () => this.host.settled(),
      complete: () => this.host.settled(),
      error: (error) => this.host.failed(error),
    });
    this.actor = actor;
    actor.start();
  }

  /** Stops the actor (no effect runs); its last snapshot still answers. */
  stop(): void {
    this.actor?.stop();
  }

  private snapshot() {
    if (this.actor === null) throw new Error('no lifecycle has begun');
    return this.actor.getSnapshot();
  }

  get state(): LifecycleState {
    return this.snapshot().value as LifecycleState;
  }

  get context(): GovernorContext {
    return this.snapshot().context;
  }

  /** The latch in force: this lifecycle's SHUTDOWN, or null. */
  get latch(): ShutdownLatch | null {
    const snapshot = this.snapshot();
    return snapshot.value === 'SHUTDOWN' ? snapshot.context.shutdown : null;
  }

  /** Whether the machine, in its current state, handles this event. */
  accepts(event: GovernorEvent): boolean {
    return this.actor !== null && this.snapshot().can(event);
  }

  send(event: GovernorEvent): void {
    this.actor?.send(event);
  }

  /** Resolves with the state once the machine settles (AGGRESSIVE, OBSERVE_ONLY or SHUTDOWN). */
  settled(): Promise<LifecycleState> {
    const actor = this.actor;
    if (actor === null) return Promise.resolve('STARTING');
    return new Promise((resolve) => {
      const current = actor.getSnapshot().value as LifecycleState;
      if (SETTLED_STATES.has(current)) {
        resolve(current);
        return;
      }
      const subscription = actor.subscribe({
        next: (snapshot) => {
          const value = snapshot.value as LifecycleState;
          if (SETTLED_STATES.has(value)) {
            subscription.unsubscribe();
            resolve(value);
          }
        },
        error: () => {
          subscription.unsubscribe();
          resolve(actor.getSnapshot().value as LifecycleState);
        },
        complete: () => {
          subscription.unsubscribe();
          resolve(actor.getSnapshot().value as LifecycleState);
        },
      });
    });
  }
}
