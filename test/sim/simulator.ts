/**
 * The deterministic simulator (after TigerBeetle's VOPR): one seed drives a GovernanceSystem,
 * embedded in a simulated trading engine on a SimulatedClock, through days of faults and
 * crashes, checking the invariants of docs/simulation.md after every step.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { FaultInjector } from '../../persistence/faults.js';
import { type ChainHead, Store } from '../../persistence/index.js';
import type { AlertKind } from '../../services/alerts/types.js';
import { SimulatedClock } from '../../services/clock.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../services/config.js';
import { isGovernorError } from '../../services/errors.js';
import type { ModeChange } from '../../services/governor/governance-system.js';
import {
  GovernanceSystem,
  type GovernanceSystemOptions,
} from '../../services/governor/governance-system.js';
import { simulateCrash } from '../../testing.js';
import { Oracle } from './oracle.js';
import { Prng } from './prng.js';
import { ProcessClock } from './process-clock.js';
import {
  type Action,
  DAY_MS,
  generateSchedule,
  HOUR_MS,
  MINUTE_MS,
  SECOND_MS,
} from './schedule.js';

/** Builds the system under test; a test passes a deliberately broken variant here. */
export type GovernorFactory = (options: GovernanceSystemOptions) => GovernanceSystem;

export interface SimOptions {
  readonly seed: number;
  readonly days: number;
  /** Replay this schedule instead of the seed's own (a shrunk trace). */
  readonly schedule?: readonly Action[];
  /** Where database files go; default /dev/shm when it exists, else the temp directory. */
  readonly baseDir?: string;
  /** The simulated engine's step: market ticks and orders. Default 10 s. */
  readonly tickMs?: number;
  readonly createGovernor?: GovernorFactory;
  /** Stop at the first violation (default true). */
  readonly stopAtFirstViolation?: boolean;
  /** Action kinds dropped from the seed's schedule (triage: which fault matters). */
  readonly withoutKinds?: readonly string[];
  /** Called at each simulated day boundary (the runner samples the heap here). */
  readonly onDay?: (day: number) => void;
}

export interface Violation {
  readonly invariant: string;
  readonly atMs: number;
  readonly detail: string;
}

export interface SimStats {
  orders: number;
  modeChanges: number;
  shutdowns: number;
  alerts: number;
  crashes: number;
  /** Attempts of a second process to own the database (every one must be refused). */
  secondOwners: number;
  /** Kill switches pulled from another process (recorded in the database). */
  outOfBandShutdowns: number;
  operatorRestarts: number;
  operatorResumes: number;
  eventsAppended: number;
  actionsApplied: number;
}

export interface SimResult {
  readonly seed: number;
  readonly days: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly violations: readonly Violation[];
  /** FNV-1a digest of the decision trace: one seed, one digest. */
  readonly traceDigest: string;
  /** The last decisions, newest last (bounded). */
  readonly recentDecisions: readonly string[];
  readonly schedule: readonly Action[];
  readonly stats: SimStats;
}

const TICK_MS_DEFAULT = 10 * SECOND_MS;
const SNAPSHOT_INTERVAL_MS = 6 * HOUR_MS;
const SNAPSHOT_RETRY_MS = MINUTE_MS;
const ORDER_EVENT_EVERY_TICKS = 10;
const TRANSFER_EVERY_TICKS = 360;
const DECISIONS_KEPT = 40;
const ENGINE_APPENDS_KEPT = 8;
const POOL_ID = 'main';
const OPERATOR = { operator: 'sim-operator', reason: 'simulated operator action' };

/** Errors an operator call may legitimately end with; anything else is a violation. */
const EXPECTED_OPERATOR_ERRORS: ReadonlySet<string> = new Set([
  'GOV_INVALID_OPERATOR_ACTION',
  'GOV_RESTART_WOULD_TRIP',
  'GOV_STORAGE_FAILURE',
  'GOV_LIFECYCLE_RUNNING',
]);

export function defaultBaseDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

interface Process {
  readonly clock: ProcessClock;
  readonly gov: GovernanceSystem;
}

/** One seeded run. Construct, then `await run()`. */
/** How many event-loop rounds a pending visit gets before simulated time moves on. */
const PENDING_ROUNDS_MAX = 64;

export class Simulation {
  readonly thresholds: Thresholds = DEFAULT_THRESHOLDS;
  readonly world = new SimulatedClock();
  readonly faults = new FaultInjector();
  readonly oracle: Oracle;
  private readonly schedule: readonly Action[];
  private readonly rng: Prng;
  private readonly dir: string;
  private readonly dbPath: string;
  private readonly tickMs: number;
  private readonly factory: GovernorFactory;
  private proc: Process | null = null;
  private readonly violations: Violation[] = [];
  private readonly decisions: string[] = [];
  private digest = 0x811c9dc5;
  private lastGate = false;
  private pending: { done: boolean } | null = null;
  private operatorDueMs: number | null = null;
  private tickCount = 0;
  private snapshotCount = 0;
  private lastSnapshotAttemptMs = Number.NEGATIVE_INFINITY;
  private verified: ChainHead | null = null;
  private readonly engineAppends: ChainHead[] = [];
  /** The simulator's own connections to the file: a reader, and a writer like the CLI's. */
  private readerStore: Store | null = null;
  private cliStore: Store | null = null;
  private tamperDb: Sqlite.Database | null = null;
  readonly stats: SimStats = {
    orders: 0,
    modeChanges: 0,
    shutdowns: 0,
    alerts: 0,
    crashes: 0,
    secondOwners: 0,
    outOfBandShutdowns: 0,
    operatorRestarts: 0,
    operatorResumes: 0,
    eventsAppended: 0,
    actionsApplied: 0,
  };

  constructor(private readonly options: SimOptions) {
    const rng = new Prng(options.seed);
    const generated = generateSchedule(rng.fork(), options.days);
    const without = new Set(options.withoutKinds ?? []);
    this.schedule = (options.schedule ?? generated).filter((action) => !without.has(action.kind));
    this.rng = rng.fork();
    this.tickMs = options.tickMs ?? TICK_MS_DEFAULT;
    this.factory = options.createGovernor ?? ((o) => new GovernanceSystem(o));
    this.dir = mkdtempSync(
      join(options.baseDir ?? defaultBaseDir(), `governor-sim-${options.seed}-`),
    );
    this.dbPath = join(this.dir, 'governor.db');
    this.oracle = new Oracle(this.thresholds, (invariant, detail) =>
      this.violate(invariant, detail),
    );
  }

  private get now(): number {
    return this.world.monotonicNow();
  }

  private get gov(): GovernanceSystem {
    if (this.proc === null) throw new Error('simulation: no process is running');
    return this.proc.gov;
  }

  async run(): Promise<SimResult> {
    const startedWallMs = performance.now();
    const endMs = this.options.days * DAY_MS;
    try {
      this.startProcess();
      this.setUpCapital();
      await this.loop(endMs);
      if (!this.stopped()) this.finalChecks();
    } catch (error) {
      this.violate('no-unexpected-exception', describe(error));
    } finally {
      this.teardown();
    }
    return {
      seed: this.options.seed,
      days: this.options.days,
      simulatedMs: this.now,
      wallMs: performance.now() - startedWallMs,
      violations: [...this.violations],
      traceDigest: (this.digest >>> 0).toString(16).padStart(8, '0'),
      recentDecisions: [...this.decisions],
      schedule: this.schedule,
      stats: { ...this.stats },
    };
  }

  private stopped(): boolean {
    return this.violations.length > 0 && this.options.stopAtFirstViolation !== false;
  }

  private async loop(endMs: number): Promise<void> {
    let actionIndex = 0;
    let nextTickMs = this.tickMs;
    let nextDayMs = DAY_MS;
    while (this.now < endMs && !this.stopped()) {
      if (this.pending !== null) await this.flushPending();
      const action = this.schedule[actionIndex];
      const target = Math.min(
        endMs,
        nextTickMs,
        action?.atMs ?? Number.POSITIVE_INFINITY,
        this.oracle.nextBoundaryMs(this.now, this.gov.getState()),
        this.operatorDueMs ?? Number.POSITIVE_INFINITY,
      );
      this.advanceTo(Math.max(target, this.now));
      this.oracle.expire(this.now, this.faults, this.gov);
      if (this.now >= nextTickMs) {
        this.engineTick();
        while (nextTickMs <= this.now) nextTickMs += this.tickMs;
      }
      for (let next = this.schedule[actionIndex]; next !== undefined && next.atMs <= this.now; ) {
        await this.apply(next);
        actionIndex++;
        next = this.schedule[actionIndex];
        if (this.stopped()) return;
      }
      if (this.operatorDueMs !== null && this.now >= this.operatorDueMs) this.operatorActs();
      this.planOperator();
      this.check('step');
      if (this.now >= nextDayMs) {
        this.options.onDay?.(Math.round(nextDayMs / DAY_MS));
        nextDayMs += DAY_MS;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Processes: start, crash, restart on the same file

  private startProcess(): void {
    const clock = new ProcessClock(this.world);
    // Operator requests from other processes are polled by the simulator (deterministically).
    const gov = this.factory({
      dbPath: this.dbPath,
      clock,
      faults: this.faults,
      operatorRequestPollMs: null,
      // Verification on the simulated event loop: worker threads would break exact replay.
      integrityWorkersMax: 0,
    });
    this.proc = { clock, gov };
    this.oracle.processStarted(this.now, gov);
    gov.onModeChange((change) => this.onModeChange(change));
    gov.onAlert((alert) => this.onAlert(alert.kind));
    this.startVisit(() => gov.runStartupChecks(this.adapters()));
  }

  private reader(): Store {
    this.readerStore ??= Store.open(this.dbPath, { readonly: true });
    return this.readerStore;
  }

  /** A raw connection for what happens behind governor's back (capital drift, its repair). */
  private tamper(): Sqlite.Database {
    this.tamperDb ??= new Sqlite(this.dbPath, { timeout: 1_000 });
    return this.tamperDb;
  }

  private crash(): void {
    const old = this.gov;
    const head = this.reader().events.head();
    const kept = [...this.engineAppends];
    this.stats.crashes++;
    this.proc?.clock.kill();
    simulateCrash(old);
    this.pending = null;
    this.oracle.crashed(this.now);
    this.record(`crash (head seq ${head?.seq ?? 0})`);
    this.oracle.restarting(
      this.now,
      this.world.wallNow(),
      this.reader().systemState.get().inputsText,
    );
    try {
      this.startProcess();
    } catch (error) {
      this.violate('no-crash-loop', `reopening the database failed: ${describe(error)}`);
      return;
    }
    for (const committed of head === null ? kept : [head, ...kept]) {
      const found = this.reader().events.get(committed.seq);
      if (found?.hash !== committed.hash) {
        this.violate(
          'no-committed-event-lost',
          `event seq ${committed.seq} (${committed.hash.slice(0, 12)}) missing or changed after restart`,
        );
      }
    }
    this.verifyChainIncrementally();
  }

  private verifyChainIncrementally(): void {
    const from = this.verified;
    const result = this.reader().integrityScan.verifyChain(
      from === null ? {} : { fromSeq: from.seq + 1, expectedPrevHash: from.hash },
    );
    if (!result.ok) {
      this.violate('chain-verifies', `chain broken at seq ${result.seq}: ${result.problem}`);
      return;
    }
    if (result.head !== null) this.verified = result.head;
  }

  private finalChecks(): void {
    const result = this.reader().integrityScan.verifyChain();
    if (!result.ok)
      this.violate('chain-verifies', `chain broken at seq ${result.seq}: ${result.problem}`);
    this.stats.eventsAppended = this.reader().events.count();
  }

  private teardown(): void {
    try {
      this.proc?.clock.kill();
      this.proc?.gov.close();
    } catch {
      // a broken variant may fail to close; the directory goes anyway
    }
    for (const connection of [this.readerStore, this.cliStore, this.tamperDb]) {
      try {
        connection?.close();
      } catch {
        // already closed
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------------
  // Other processes on the same file: a would-be second owner, the command line

  /** Another process tries to own the database: it must be refused while this one lives. */
  private secondOwner(): void {
    this.stats.secondOwners++;
    let intruder: GovernanceSystem | null = null;
    try {
      intruder = this.factory({
        dbPath: this.dbPath,
        clock: new ProcessClock(this.world),
        operatorRequestPollMs: null,
      });
    } catch (error) {
      if (isGovernorError(error, 'GOV_DATABASE_OWNED')) {
        this.record('second owner refused');
        return;
      }
      this.violate('one-owner', `a second owner failed oddly: ${describe(error)}`);
      return;
    }
    this.violate('one-owner', 'a second GovernanceSystem opened the database while it was owned');
    simulateCrash(intruder);
  }

  /**
   * The kill switch pulled from another process: the request is recorded in the database, as
   * the command line does, and the owner carries it out at its next poll (here: at once, as the
   * poll timer would within its interval). Nothing may stay AGGRESSIVE or open the gate after.
   */
  private async outOfBandShutdown(): Promise<void> {
    this.stats.outOfBandShutdowns++;
    this.cliStore ??= Store.open(this.dbPath, { busyTimeoutMs: 0 });
    const recorded = this.cliStore.operatorRequests.record(
      { command: 'shutdown', ...OPERATOR, requestedBy: 'sim cli' },
      this.world.wallNow(),
    );
    this.oracle.operatorKill(true);
    await this.gov.pollOperatorRequests();
    this.oracle.operatorKill(false);
    const mode = this.gov.getState();
    if (mode !== 'SHUTDOWN' || this.gov.canDeployCapital()) {
      this.violate(
        'out-of-band-kill-switch-lands',
        `request ${recorded.id} recorded, governor still ${mode}`,
      );
    }
    const row = this.reader().operatorRequests.get(recorded.id);
    if (row?.status === 'pending' && this.oracle.writesPossible()) {
      this.violate('out-of-band-kill-switch-lands', `request ${recorded.id} never confirmed`);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Visits (startup checks, resume) run asynchronously while simulated time goes on

  private startVisit(begin: () => Promise<boolean>): void {
    this.oracle.visitStarted(this.now);
    const state = { done: false };
    this.pending = state;
    let promise: Promise<boolean>;
    try {
      promise = begin();
    } catch (error) {
      state.done = true;
      this.expectOperatorError(error);
      return;
    }
    promise.then(
      () => {
        state.done = true;
      },
      (error: unknown) => {
        state.done = true;
        if (this.pending === state) this.expectOperatorError(error);
      },
    );
  }

  /**
   * Lets a pending visit run before simulated time moves on: a verification on the event loop
   * yields between slices, and each slice takes well under a millisecond of real time, so a
   * visit that is only computing gets up to `PENDING_ROUNDS_MAX` rounds per step (one round per
   * step made a 35,000-event verification outlast the 60 s startup timeout). A visit waiting on a
   * simulated timer (a hanging adapter) stops being flushed after those rounds.
   */
  private async flushPending(): Promise<void> {
    for (let round = 0; round < PENDING_ROUNDS_MAX; round++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.pending?.done === true) {
        this.pending = null;
        return;
      }
    }
  }

  private adapters() {
    return [{ name: 'exchange', ping: () => this.oracle.adapterPing(this.now) }];
  }

  // ---------------------------------------------------------------------------------------
  // Time

  private advanceTo(targetMs: number): void {
    const writable = this.oracle.writesPossible();
    this.world.advance(targetMs - this.now);
    if (writable) this.oracle.loopRanWritable(this.now);
  }

  private stall(durationMs: number): void {
    this.world.skip(durationMs);
    this.check('stalled loop, before any timer runs', false);
    this.oracle.stalled(this.now, durationMs);
    this.world.runDue();
    if (this.oracle.writesPossible()) this.oracle.loopRanWritable(this.now);
  }

  // ---------------------------------------------------------------------------------------
  // The simulated embedding engine

  private setUpCapital(): void {
    const capital = this.gov.engine.capital;
    capital.createPool(POOL_ID, { currency: 'USD' });
    capital.createAccount('alpha', POOL_ID);
    capital.createAccount('beta', POOL_ID);
    capital.deposit('alpha', 1_000_000_000n);
    capital.deposit('beta', 1_000_000_000n);
  }

  private engineTick(): void {
    const gov = this.gov;
    this.tickCount++;
    if (this.oracle.marketFeedUp(this.now)) {
      gov.healthMonitor.updateMarketDataTimestamp();
      this.oracle.marketData(this.now);
    }
    if (gov.canDeployCapital()) {
      this.stats.orders++;
      if (this.tickCount % ORDER_EVENT_EVERY_TICKS === 0) this.appendOrder();
    }
    this.check('order through the gate');
    if (this.tickCount % TRANSFER_EVERY_TICKS === 0) this.moveCapital();
    if (
      this.now - this.oracle.lastSnapshotOkMs >= SNAPSHOT_INTERVAL_MS &&
      this.now - this.lastSnapshotAttemptMs >= SNAPSHOT_RETRY_MS
    ) {
      this.writeSnapshot();
    }
  }

  private engineWrite(what: string, write: () => void): boolean {
    try {
      write();
      return true;
    } catch (error) {
      if (!isGovernorError(error) || error.code !== 'GOV_STORAGE_FAILURE') {
        this.violate('no-unexpected-exception', `engine ${what}: ${describe(error)}`);
      }
      return false;
    }
  }

  private appendOrder(): void {
    this.engineWrite('order event', () => {
      const appended = this.gov.engine.events.append({
        eventType: 'ORDER_PLACED',
        reason: 'simulated order',
        metadata: { tick: this.tickCount },
      });
      this.engineAppends.push({ seq: appended.seq, hash: appended.hash });
      if (this.engineAppends.length > ENGINE_APPENDS_KEPT) this.engineAppends.shift();
    });
  }

  private moveCapital(): void {
    const [from, to] =
      this.tickCount % (2 * TRANSFER_EVERY_TICKS) === 0 ? ['alpha', 'beta'] : ['beta', 'alpha'];
    this.engineWrite('capital transfer', () => {
      this.gov.engine.capital.transfer(from ?? 'alpha', to ?? 'beta', 1_000n);
    });
  }

  private writeSnapshot(): void {
    this.lastSnapshotAttemptMs = this.now;
    if (this.snapshotCount === 0) this.snapshotCount = this.reader().snapshots.count();
    const date = new Date(Date.UTC(2026, 0, 1) + this.snapshotCount * DAY_MS)
      .toISOString()
      .slice(0, 10);
    const ok = this.engineWrite('snapshot', () => {
      // The engine port stamps the snapshot input on commit.
      this.gov.engine.snapshots.write({ date, data: { n: this.snapshotCount } });
    });
    if (!ok) return;
    this.snapshotCount++;
    this.oracle.snapshotWritten(this.now, this.world.wallNow());
  }

  // ---------------------------------------------------------------------------------------
  // Scheduled actions

  private async apply(action: Action): Promise<void> {
    this.stats.actionsApplied++;
    this.record(`${action.kind} ${JSON.stringify(action).slice(0, 80)}`);
    const gov = this.gov;
    switch (action.kind) {
      case 'stall':
        this.stall(action.durationMs);
        break;
      case 'crash':
        this.crash();
        break;
      case 'secondOwner':
        this.secondOwner();
        break;
      case 'outOfBandShutdown':
        await this.outOfBandShutdown();
        break;
      case 'wallJump':
        this.world.jumpWall(action.jumpMs);
        this.oracle.wallJumped(action.jumpMs, this.now);
        break;
      case 'errorBurst':
        for (let i = 0; i < action.count; i++) {
          this.oracle.errorRecorded(this.now);
          gov.healthMonitor.recordError();
        }
        break;
      case 'capitalDrift':
        this.tamper()
          .prepare('UPDATE capital_pools SET total_minor = total_minor + ? WHERE pool_id = ?')
          .run(action.amountMinor, POOL_ID);
        this.oracle.capitalDrifted(this.now, action.amountMinor);
        break;
      case 'operatorObserve':
        this.operatorCall(
          () => gov.operatorObserve(OPERATOR),
          () => this.oracle.newEpoch(),
        );
        break;
      case 'operatorResume':
        this.resume();
        break;
      case 'operatorShutdown':
        this.oracle.operatorKill(true);
        this.operatorCall(() => gov.operatorShutdown(OPERATOR));
        this.oracle.operatorKill(false);
        if (gov.getState() !== 'SHUTDOWN' || gov.canDeployCapital()) {
          this.violate(
            'kill-switch-lands',
            `operatorShutdown returned, governor ${gov.getState()}`,
          );
        }
        break;
      default:
        this.oracle.applyFault(action, this.now, this.faults, gov);
    }
    this.check(`after ${action.kind}`);
  }

  private operatorCall(call: () => void, onSuccess?: () => void): void {
    try {
      call();
      onSuccess?.();
    } catch (error) {
      this.expectOperatorError(error);
    }
  }

  private expectOperatorError(error: unknown): void {
    if (isGovernorError(error) && EXPECTED_OPERATOR_ERRORS.has(error.code)) return;
    this.violate('no-unexpected-exception', `operator action: ${describe(error)}`);
  }

  private resume(): void {
    if (this.pending !== null || this.gov.getState() !== 'OBSERVE_ONLY') return;
    this.stats.operatorResumes++;
    this.oracle.operatorResumed();
    this.startVisit(() => this.gov.operatorResume(OPERATOR));
  }

  /** The attentive operator: restarts after a SHUTDOWN, resumes after OBSERVE_ONLY. */
  private planOperator(): void {
    if (this.operatorDueMs !== null || this.pending !== null) return;
    const mode = this.gov.getState();
    if (mode === 'SHUTDOWN' || mode === 'OBSERVE_ONLY') {
      this.operatorDueMs = this.now + this.rng.logDurationMs(2 * MINUTE_MS, 2 * HOUR_MS);
    }
  }

  private operatorActs(): void {
    this.operatorDueMs = null;
    if (this.pending !== null) return;
    const gov = this.gov;
    const mode = gov.getState();
    if (mode === 'OBSERVE_ONLY') {
      this.record('operator resumes');
      this.resume();
    } else if (mode === 'SHUTDOWN') {
      this.record('operator repairs and restarts');
      this.oracle.repairCapital(this.tamper());
      try {
        // A quarter of restarts are forced past the pre-flight (an operator who insists).
        gov.operatorRestart(OPERATOR, { force: this.rng.chance(0.25) });
      } catch (error) {
        this.expectOperatorError(error);
        return;
      }
      this.stats.operatorRestarts++;
      this.oracle.operatorRestarted(this.now);
      this.startVisit(() => gov.runStartupChecks(this.adapters()));
    }
    this.check('after operator');
  }

  // ---------------------------------------------------------------------------------------
  // Observations and invariants

  private onModeChange(change: ModeChange): void {
    this.stats.modeChanges++;
    if (change.to === 'SHUTDOWN') this.stats.shutdowns++;
    this.record(
      `mode ${change.from} -> ${change.to}${change.cause ? ` (${change.cause})` : ''}${change.trigger ? ` [${change.trigger}]` : ''}`,
    );
    this.oracle.modeChanged(change, this.now, this.gov);
  }

  private onAlert(kind: AlertKind): void {
    this.stats.alerts++;
    this.record(`alert ${kind}`);
    this.oracle.alertRaised(kind);
  }

  private check(where: string, timersRan = true): void {
    const gov = this.gov;
    const gate = gov.canDeployCapital();
    if (gate !== this.lastGate) {
      this.lastGate = gate;
      this.record(`gate ${gate ? 'open' : 'closed'}`);
    }
    this.oracle.check(this.now, gov, gate, where, timersRan);
  }

  private record(decision: string): void {
    const line = `${formatSimTime(this.now)} ${decision}`;
    this.decisions.push(line);
    if (this.decisions.length > DECISIONS_KEPT) this.decisions.shift();
    let hash = this.digest;
    for (let i = 0; i < line.length; i++) {
      hash ^= line.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    this.digest = hash >>> 0;
  }

  private violate(invariant: string, detail: string): void {
    if (this.violations.length >= 20) return;
    this.violations.push({ invariant, atMs: this.now, detail });
    this.record(`VIOLATION ${invariant}: ${detail}`);
  }
}

/** `d3 04:05:06.789`: simulated time since the start of the run. */
export function formatSimTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  const rest = new Date(ms - day * DAY_MS).toISOString().slice(11, 23);
  return `d${day} ${rest}`;
}

function describe(error: unknown): string {
  if (isGovernorError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs one seed. */
export function runSeed(options: SimOptions): Promise<SimResult> {
  return new Simulation(options).run();
}
