/**
 * The confirmations a host owes the fleet authority: that it obeyed a kill (the scope, the
 * kill's epoch, the host's state then). The latest per scope is kept until the authority has it;
 * each write is bounded, a flush makes at most three passes, and what fails waits for the next
 * flush (the lease flushes after every renewal).
 */
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type AuthorityConnection, boundedByDeadline } from './lease-protocol.js';

export interface LeaseConfirmationsOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The bound (ms) on each write. */
  readonly writeMs: number;
  /** The lease's connection now, or null while it has none. */
  connection(): AuthorityConnection | null;
}

export class LeaseConfirmations {
  private readonly pending = new Map<string, { epoch: number; state: string }>();
  private flushing = false;

  constructor(private readonly options: LeaseConfirmationsOptions) {}

  /** Owes a confirmation of `scope` at `epoch` (replacing an older one of the scope). */
  add(scope: string, epoch: number, state: string): void {
    this.pending.set(scope, { epoch, state });
  }

  /** Writes what is owed; a flush already under way takes it instead. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      // A confirmation added while a write was under way is written in the next pass (bounded).
      for (let pass = 0; pass < 3 && this.pending.size > 0; pass++) {
        if (!(await this.write())) break;
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Writes the pending confirmations; false when one could not be written. */
  private async write(): Promise<boolean> {
    const connection = this.options.connection();
    if (connection === null) return false;
    const clock = this.options.clock;
    for (const [scope, { epoch, state }] of [...this.pending]) {
      try {
        await boundedByDeadline(
          clock,
          connection.confirm(scope, epoch, state),
          clock.monotonicNow() + this.options.writeMs,
          'confirm',
        );
        const pending = this.pending.get(scope);
        if (pending?.epoch === epoch) this.pending.delete(scope);
      } catch (error) {
        this.options.logger.warn(
          { err: error, scope, epoch },
          `fleet confirmation not written yet: ${describeError(error)}`,
        );
        return false;
      }
    }
    return true;
  }
}
