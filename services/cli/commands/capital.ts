/**
 * `governor capital adjust --pool ID [--account ID] --amount MINOR --operator NAME --reason TEXT`:
 * the audited correction of capital records after CAPITAL_INCONSISTENT. The pool's mismatch and
 * the result of the correction are read (read-only) and shown first; then the request is recorded
 * and carried out by the owner of the database (or by this command when none runs), in one
 * transaction with its audit row and a CAPITAL_CORRECTED event. A correction that would leave the
 * pool unreconciled is refused unless --force: a running governor shuts down on a mismatch.
 */
import type { PoolBalance } from '../../../persistence/capital.js';
import { displayText } from '../../display-text.js';
import type { RecordedResultFields } from '../../governor/operator-results.js';
import { sendOwnerRequest } from '../../governor/ownership/index.js';
import {
  booleanFlag,
  type CommandContext,
  openReadOnly,
  ownerRequestTarget,
  resolveConfig,
  stringFlag,
} from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type CommandLocation, commandLocation, nextCommands } from '../printed-command.js';
import { describeOutcome, requireOperatorFlags } from './operator.js';

const USAGE =
  'usage: governor capital adjust --pool ID [--account ID] --amount MINOR --operator NAME --reason TEXT [--dry-run] [--force]';
/** A signed integer of minor units, at most 19 digits (the store keeps int64). */
const AMOUNT = /^[+-]?\d{1,19}$/;

export interface CorrectionPlan {
  readonly poolId: string;
  readonly accountId: string | null;
  readonly amountMinor: bigint;
  readonly before: PoolBalance;
  readonly after: PoolBalance;
  /** The corrected value (account balance or pool total), before and after. */
  readonly valueBefore: bigint;
  readonly valueAfter: bigint;
}

function parseAmount(text: string | undefined): bigint {
  if (text === undefined) throw new CliError(EXIT.USAGE, '--amount is required', USAGE);
  if (!AMOUNT.test(text.trim()) || BigInt(text.trim()) === 0n) {
    throw new CliError(
      EXIT.USAGE,
      `--amount: expected a non-zero signed integer of minor units (e.g. -1, +2500), got "${displayText(text)}"`,
    );
  }
  return BigInt(text.trim());
}

/** What the correction will do, computed from the records as they are now (read-only). */
async function planCorrection(
  dbPath: string,
  poolId: string,
  accountId: string | null,
  amountMinor: bigint,
): Promise<CorrectionPlan> {
  const store = await openReadOnly(dbPath);
  try {
    const before = store.capital.poolBalance(poolId);
    let valueBefore = before.totalMinor;
    if (accountId !== null) {
      const account = store.capital.account(accountId);
      if (account === null) throw new CliError(EXIT.NOT_FOUND, `no account ${accountId}`);
      if (account.poolId !== poolId) {
        throw new CliError(
          EXIT.REFUSED,
          `account ${accountId} belongs to pool ${account.poolId}, not ${poolId}; nothing was changed`,
        );
      }
      valueBefore = account.balanceMinor;
    }
    const valueAfter = valueBefore + amountMinor;
    if (valueAfter < 0n) {
      throw new CliError(
        EXIT.REFUSED,
        `the correction would make ${accountId === null ? 'the pool total' : `account ${accountId}`} ${valueAfter} minor units (it holds ${valueBefore}); nothing was changed`,
      );
    }
    const totalMinor = accountId === null ? valueAfter : before.totalMinor;
    const accountsSumMinor =
      accountId === null ? before.accountsSumMinor : before.accountsSumMinor + amountMinor;
    const after: PoolBalance = {
      poolId,
      totalMinor,
      accountsSumMinor,
      differenceMinor: totalMinor - accountsSumMinor,
    };
    return { poolId, accountId, amountMinor, before, after, valueBefore, valueAfter };
  } finally {
    store.close();
  }
}

function balanceLine(balance: PoolBalance): string {
  const state =
    balance.differenceMinor === 0n
      ? 'reconciled'
      : `MISMATCH: difference ${balance.differenceMinor} minor units`;
  return `total ${balance.totalMinor}, accounts sum to ${balance.accountsSumMinor} (${state})`;
}

export function describePlan(plan: CorrectionPlan): string[] {
  const signed = `${plan.amountMinor > 0n ? '+' : ''}${plan.amountMinor}`;
  const target = plan.accountId === null ? 'the pool total' : `account ${plan.accountId}`;
  return [
    `pool ${plan.poolId} now:  ${balanceLine(plan.before)}`,
    `correction:        ${target} ${signed} minor units (${plan.valueBefore} -> ${plan.valueAfter})`,
    `after it:          ${balanceLine(plan.after)}`,
  ];
}

export async function capitalAdjustCommand(context: CommandContext): Promise<ExitCode> {
  if (context.positionals.length > 0) throw new CliError(EXIT.USAGE, USAGE);
  const poolId = stringFlag(context, 'pool');
  if (poolId === undefined) throw new CliError(EXIT.USAGE, '--pool is required', USAGE);
  const accountId = stringFlag(context, 'account') ?? null;
  const amountMinor = parseAmount(stringFlag(context, 'amount'));
  const dryRun = booleanFlag(context, 'dry-run');
  const request = dryRun ? null : requireOperatorFlags(context, 'capital adjust');
  const config = await resolveConfig(context);
  const plan = await planCorrection(config.dbPath, poolId, accountId, amountMinor);
  const { out } = context;
  if (!context.json) for (const line of describePlan(plan)) out.line(displayText(line));
  if (request === null) {
    if (context.json) out.json({ dryRun: true, plan });
    else out.line('dry run: nothing was changed');
    return EXIT.OK;
  }
  if (plan.after.differenceMinor !== 0n && !booleanFlag(context, 'force')) {
    throw new CliError(
      EXIT.REFUSED,
      `refused: this correction leaves pool ${poolId} unreconciled (difference ${plan.after.differenceMinor}); a running governor shuts down on a mismatch (CAPITAL_INCONSISTENT). Choose the amount that reconciles it, or add --force when this is one of several corrections; nothing was changed`,
    );
  }
  const outcome = await sendOwnerRequest(ownerRequestTarget(config), {
    command: 'adjust',
    ...request,
    options: {
      poolId,
      ...(accountId === null ? {} : { accountId }),
      amountMinor: amountMinor.toString(),
    },
  });
  const done =
    outcome.kind === 'confirmed' || (outcome.kind === 'no-owner' && outcome.status === 'done');
  const location = commandLocation(config);
  const described = describeOutcome('capital adjust', request.operator, outcome, location);
  const exitCode = done ? EXIT.OK : described.exitCode;
  if (context.json) {
    out.json({ outcome: outcome.kind, plan, request: outcome.request, exitCode });
    return exitCode;
  }
  if (!done) {
    for (const line of described.lines) out.error(line);
    return exitCode;
  }
  for (const line of appliedLines(request.operator, outcome, location)) out.line(displayText(line));
  return EXIT.OK;
}

function appliedLines(
  operator: string,
  outcome: Awaited<ReturnType<typeof sendOwnerRequest>>,
  location: CommandLocation,
): string[] {
  const result: RecordedResultFields = outcome.request.result ?? {};
  const after = result.correction?.after;
  const by =
    outcome.kind === 'confirmed'
      ? `confirmed by ${result.handledBy ?? 'the owner'}, ${outcome.waitedMs} ms after the request`
      : 'no owner running: carried out by this command';
  const lines = [
    `capital adjust by ${operator}: applied; pool now total ${after?.totalMinor ?? '?'}, accounts sum to ${after?.accountsSumMinor ?? '?'} (${result.correction?.reconciled === true ? 'reconciled' : 'NOT reconciled'}) (${by})`,
  ];
  if (result.state === 'SHUTDOWN') {
    lines.push(
      `governor is in SHUTDOWN${result.trigger ? ` (${result.trigger})` : ''}; next: ${nextCommands(location).verify}, then ${nextCommands(location).restart}`,
    );
  }
  return lines;
}
