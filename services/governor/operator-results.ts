/**
 * What an operator request's row says happened, read back from the database through a schema:
 * a command carried out reports the state reached (`CommandResult`), a refused or failed one
 * why (`CommandFailure`). Each field is checked as it is read, nothing is cast: a row whose
 * result does not fit is refused with GOV_CORRUPT_RECORD naming the request and the field.
 */
import { LIFECYCLE_STATES, type LifecycleState } from '../../machines/types.js';
import { GovernorError } from '../errors.js';
import type { ThresholdsOrigin } from './preflight.js';

/** Fields a command's result may carry besides the state; the vocabulary says which, per command. */
export type ResultExtra = 'settling' | 'alert' | 'correction' | 'preflightThresholds';

/** `adjust`: the pool's reconciliation before and after the correction, amounts as decimal text. */
export interface CorrectionResult {
  readonly before: Readonly<Record<string, string>>;
  readonly after: Readonly<Record<string, string>>;
  readonly reconciled: boolean;
}

/** The state a request left governor in, as the owner reported it. */
export interface StateReport {
  readonly state: LifecycleState;
  readonly gateOpen: boolean;
  readonly cause: string | null;
  readonly trigger: string | null;
  readonly reason: string | null;
}

/** What a command carried out reports: the state reached and why, and who carried it out. */
export interface CommandResult extends StateReport {
  readonly handledBy: string;
  /** True when a resume or restart answered before its checks settled (bounded wait). */
  readonly settling?: boolean;
  /** `ack`: the alert as acknowledged (plain JSON). */
  readonly alert?: unknown;
  /** `adjust`: the pool's reconciliation before and after the correction. */
  readonly correction?: CorrectionResult;
  /** `restart`: whose thresholds its pre-flight used (none when forced). */
  readonly preflightThresholds?: ThresholdsOrigin;
}

/** A restart's pre-flight that refused it: what it found. */
export interface PreflightSummary {
  readonly ok: boolean;
  readonly trips: ReadonlyArray<{ readonly trigger: string; readonly reason: string }>;
  readonly warnings: readonly string[];
  readonly thresholds: ThresholdsOrigin;
}

/**
 * Why a request was refused or failed: the error's code and message, a refused restart's
 * pre-flight, and the state then (absent for a request its requester withdrew).
 */
export interface CommandFailure extends Partial<StateReport> {
  readonly code?: string;
  readonly message: string;
  readonly preflight?: PreflightSummary;
  readonly handledBy?: string;
}

export type RecordedResult = CommandResult | CommandFailure;

/** Every field either kind of result may hold, each optional: how a reader looks at one. */
export type RecordedResultFields = Partial<CommandResult> & Partial<CommandFailure>;

type Fields = Readonly<Record<string, unknown>>;

class ResultReader {
  constructor(
    private readonly requestId: number,
    private readonly fields: Fields,
  ) {}

  corrupt(field: string, expected: string): GovernorError {
    return new GovernorError(
      'GOV_CORRUPT_RECORD',
      `operator request ${this.requestId}: result field ${field} is not ${expected}`,
      { table: 'operator_requests', id: this.requestId, field },
    );
  }

  /** True when the result holds `field` (null counts: it is checked). */
  has(field: string): boolean {
    return Object.hasOwn(this.fields, field);
  }

  string(field: string): string {
    const value = this.fields[field];
    if (typeof value !== 'string') throw this.corrupt(field, 'a string');
    return value;
  }

  nullableString(field: string): string | null {
    const value = this.fields[field];
    if (value === null) return null;
    return this.string(field);
  }

  boolean(field: string): boolean {
    const value = this.fields[field];
    if (typeof value !== 'boolean') throw this.corrupt(field, 'true or false');
    return value;
  }

  state(): LifecycleState {
    const value = this.fields.state;
    const known = LIFECYCLE_STATES.find((state) => state === value);
    if (known === undefined) throw this.corrupt('state', 'a lifecycle state');
    return known;
  }

  objectOrNull(field: string): Fields | null {
    return this.fields[field] === null ? null : this.object(field);
  }

  object(field: string): Fields {
    return asObject(this.fields[field], () => this.corrupt(field, 'an object'));
  }
}

function asObject(value: unknown, refuse: () => GovernorError): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse();
  return value as Fields;
}

function stateReport(read: ResultReader): StateReport {
  return {
    state: read.state(),
    gateOpen: read.boolean('gateOpen'),
    cause: read.nullableString('cause'),
    trigger: read.nullableString('trigger'),
    reason: read.nullableString('reason'),
  };
}

function textRecord(read: ResultReader, fields: Fields, field: string): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string') throw read.corrupt(`${field}.${key}`, 'a string');
    copy[key] = value;
  }
  return copy;
}

function correction(read: ResultReader): CorrectionResult {
  const fields = read.object('correction');
  const part = (name: 'before' | 'after') =>
    textRecord(
      read,
      asObject(fields[name], () => read.corrupt(`correction.${name}`, 'an object')),
      `correction.${name}`,
    );
  if (typeof fields.reconciled !== 'boolean') {
    throw read.corrupt('correction.reconciled', 'true or false');
  }
  return { before: part('before'), after: part('after'), reconciled: fields.reconciled };
}

function thresholdsOrigin(read: ResultReader, field: string, value: unknown): ThresholdsOrigin {
  const fields = asObject(value, () => read.corrupt(field, 'an object'));
  switch (fields.source) {
    case 'owner':
      return { source: 'owner' };
    case 'recorded':
      if (
        typeof fields.pid !== 'number' ||
        typeof fields.host !== 'string' ||
        typeof fields.recordedAt !== 'string'
      ) {
        throw read.corrupt(field, 'a recorded origin (pid, host, recordedAt)');
      }
      return {
        source: 'recorded',
        pid: fields.pid,
        host: fields.host,
        recordedAt: fields.recordedAt,
      };
    case 'command':
      if (fields.recorded !== 'none' && fields.recorded !== 'unusable') {
        throw read.corrupt(`${field}.recorded`, 'none or unusable');
      }
      return { source: 'command', recorded: fields.recorded };
    default:
      throw read.corrupt(`${field}.source`, 'owner, recorded or command');
  }
}

function preflight(read: ResultReader): PreflightSummary {
  const fields = read.object('preflight');
  const trips = fields.trips;
  const warnings = fields.warnings;
  if (!Array.isArray(trips)) throw read.corrupt('preflight.trips', 'a list');
  if (!Array.isArray(warnings) || !warnings.every((each) => typeof each === 'string')) {
    throw read.corrupt('preflight.warnings', 'a list of strings');
  }
  if (typeof fields.ok !== 'boolean') throw read.corrupt('preflight.ok', 'true or false');
  return {
    ok: fields.ok,
    trips: trips.map((trip: unknown, index) => {
      const each = asObject(trip, () => read.corrupt(`preflight.trips[${index}]`, 'an object'));
      if (typeof each.trigger !== 'string' || typeof each.reason !== 'string') {
        throw read.corrupt(`preflight.trips[${index}]`, 'a trigger and a reason');
      }
      return { trigger: each.trigger, reason: each.reason };
    }),
    warnings: warnings.map(String),
    thresholds: thresholdsOrigin(read, 'preflight.thresholds', fields.thresholds),
  };
}

/**
 * The result of a request carried out (`done`): the state reached and who carried it out, and
 * only the extras its command's result may carry (`extras`, from the vocabulary).
 */
export function parseCommandResult(
  requestId: number,
  value: unknown,
  extras: readonly ResultExtra[],
): CommandResult {
  const read = new ResultReader(
    requestId,
    asObject(value, () => resultNotObject(requestId)),
  );
  const allowed = (extra: ResultExtra): boolean => {
    if (!read.has(extra)) return false;
    if (!extras.includes(extra)) throw read.corrupt(extra, 'absent (its command reports none)');
    return true;
  };
  return {
    ...stateReport(read),
    handledBy: read.string('handledBy'),
    ...(allowed('settling') ? { settling: read.boolean('settling') } : {}),
    ...(allowed('alert') ? { alert: read.objectOrNull('alert') } : {}),
    ...(allowed('correction') ? { correction: correction(read) } : {}),
    ...(allowed('preflightThresholds')
      ? {
          preflightThresholds: thresholdsOrigin(
            read,
            'preflightThresholds',
            read.object('preflightThresholds'),
          ),
        }
      : {}),
  };
}

/** The result of a request refused or failed: at least why, in words. */
export function parseCommandFailure(requestId: number, value: unknown): CommandFailure {
  const read = new ResultReader(
    requestId,
    asObject(value, () => resultNotObject(requestId)),
  );
  return {
    ...(read.has('code') ? { code: read.string('code') } : {}),
    message: read.string('message'),
    ...(read.has('preflight') ? { preflight: preflight(read) } : {}),
    ...(read.has('state') ? stateReport(read) : {}),
    ...(read.has('handledBy') ? { handledBy: read.string('handledBy') } : {}),
  };
}

function resultNotObject(requestId: number): GovernorError {
  return new GovernorError(
    'GOV_CORRUPT_RECORD',
    `operator request ${requestId}: its result is not an object`,
    { table: 'operator_requests', id: requestId, field: 'result' },
  );
}

/**
 * The result on a request row, by its status: none while pending, a CommandResult when done
 * (with only the `extras` its command carries), a CommandFailure when refused or failed.
 */
export function parseRecordedResult(
  record: { readonly id: number; readonly status: string; readonly result: unknown },
  extras: readonly ResultExtra[],
): RecordedResult | null {
  switch (record.status) {
    case 'pending':
      if (record.result !== null) throw resultWhilePending(record.id);
      return null;
    case 'done':
      return parseCommandResult(record.id, record.result, extras);
    default:
      return parseCommandFailure(record.id, record.result);
  }
}

function resultWhilePending(requestId: number): GovernorError {
  return new GovernorError(
    'GOV_CORRUPT_RECORD',
    `operator request ${requestId}: a pending request holds a result`,
    { table: 'operator_requests', id: requestId, field: 'result' },
  );
}
