/**
 * Operator commands recorded in the database by another process (the command line; an engine
 * calls the GovernanceSystem's operator methods in process). The request watcher hands each to
 * `executeCommand`, which carries it out through the GovernanceSystem's audited calls (so
 * through the machine) and reports the state reached, recorded on the request row. The watcher
 * polls `PRAGMA data_version` (which changes only when another connection commits) on an unref'd
 * timer, off the gate's path.
 */
import { hostname } from 'node:os';
import type { OperatorRequestRecord } from '../../persistence/operator-requests.js';
import type { Store } from '../../persistence/store.js';
import { describeError, isGovernorError, isRefusal } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CommandResult } from './operator-results.js';
import {
  type CommandInput,
  type CommandTarget,
  operatorCommandEntry,
} from './operator-vocabulary.js';

/** One command as the request watcher hands it over: its name (an entry of the vocabulary). */
export interface OperatorCommand extends CommandInput {
  readonly command: string;
}

export type { CommandTarget } from './operator-vocabulary.js';

/** resume and restart answer after at most this long, even if their checks still run. */
export const SETTLE_ANSWER_MS_MAX = 20_000;
/** How often the owner looks for requests other processes recorded (ms). */
export const REQUEST_POLL_MS_DEFAULT = 25;
export const REQUEST_POLL_MS_RANGE: readonly [number, number] = [5, 1_000];

const UNRECORDED_MAX = 1_024;

/** This process, as it signs the requests it handles. */
export function processSignature(kind: string): string {
  return `${kind} pid ${process.pid} on ${hostname()}`;
}

async function settledWithin(work: Promise<unknown>, boundMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), boundMs);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Carries out one command through its entry in the vocabulary; throws GOV_INVALID_ARGUMENT for
 * a command or options the vocabulary does not know, and the GovernanceSystem's refusal
 * (GovernorError) unchanged.
 */
export async function executeCommand(
  target: CommandTarget,
  command: OperatorCommand,
  handledBy: string,
  settleMs = SETTLE_ANSWER_MS_MAX,
): Promise<CommandResult> {
  const extras = await operatorCommandEntry(command.command).execute(target, command, (work) =>
    settledWithin(work, settleMs),
  );
  return { ...target.commandResult(), handledBy, ...extras };
}

/**
 * Watches the database for requests recorded by other processes and carries them out in order,
 * one at a time. `poll()` is cheap (one pragma); the work runs only when another connection
 * committed something.
 */
export class RequestWatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastVersion = -1;
  private draining: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  /** Requests carried out whose outcome could not be recorded: never carried out twice. */
  private readonly unrecorded = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly target: CommandTarget,
    private readonly options: {
      readonly logger: Logger;
      readonly wallNow: () => number;
      readonly handledBy: string;
      /** Told of every external commit (e.g. to notice a latch written outside governor). */
      readonly onExternalChange?: () => void;
    },
  ) {}

  /**
   * Polls every `pollMs` on a real, unref'd timer, not the injected clock: other processes
   * commit on real time.
   */
  start(pollMs: number): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => this.poll(), pollMs);
    this.timer.unref();
  }

  /** Stops polling (its actor stopped); `start` polls again. */
  stopPolling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops polling and every drain for good (close). */
  stop(): void {
    this.stopped = true;
    this.stopPolling();
  }

  /** Checks for an external commit; when there was one, drains the pending requests. */
  poll(): void {
    if (this.stopped) return;
    let version: number;
    try {
      version = this.store.dataVersion();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'operator requests could not be polled');
      return;
    }
    if (version === this.lastVersion) return;
    this.lastVersion = version;
    this.options.onExternalChange?.();
    void this.drain();
  }

  /**
   * Carries out every pending request, oldest first; resolves with how many were handled.
   * Concurrent calls share one pass (and ask for another one after it).
   */
  drain(): Promise<number> {
    if (this.draining !== null) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      let handled = 0;
      do {
        this.again = false;
        handled += await this.drainOnce();
      } while (this.again && !this.stopped);
      return handled;
    })().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainOnce(): Promise<number> {
    let pending: OperatorRequestRecord[];
    try {
      pending = this.store.operatorRequests.pending();
    } catch (error) {
      this.options.logger.error({ err: error }, 'operator requests could not be read');
      return 0;
    }
    let handled = 0;
    for (const request of pending) {
      if (this.stopped) return handled;
      if (this.unrecorded.has(request.id)) continue;
      await this.handle(request);
      handled++;
    }
    return handled;
  }

  private async handle(request: OperatorRequestRecord): Promise<void> {
    const { logger, handledBy } = this.options;
    let status: 'done' | 'refused' | 'failed' = 'done';
    let result: unknown;
    try {
      result = await executeCommand(
        this.target,
        {
          command: request.command,
          operator: request.operator,
          reason: request.reason,
          ...(request.alertId === null ? {} : { alertId: request.alertId }),
          options: request.options,
        },
        handledBy,
      );
    } catch (error) {
      status = isRefusal(error) ? 'refused' : 'failed';
      result = {
        code: isGovernorError(error) ? error.code : 'FAILED',
        message: describeError(error),
        ...(isGovernorError(error) && error.details.preflight !== undefined
          ? { preflight: error.details.preflight }
          : {}),
        ...this.target.commandResult(),
        handledBy,
      };
    }
    const handledAtMs = this.options.wallNow();
    logger.warn(
      {
        requestId: request.id,
        command: request.command,
        operator: request.operator,
        status,
      },
      'operator request from another process carried out',
    );
    try {
      this.store.operatorRequests.complete(request.id, {
        status,
        handledAtMs,
        handledBy,
        // No latency here: the requester's clock and this one may differ; it measures its own.
        result,
      });
    } catch (error) {
      logger.error(
        { err: error, requestId: request.id },
        'operator request outcome could not be recorded',
      );
      if (this.unrecorded.size >= UNRECORDED_MAX) this.unrecorded.clear();
      this.unrecorded.add(request.id);
    }
  }
}
