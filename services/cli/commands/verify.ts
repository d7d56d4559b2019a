/**
 * `governor verify [--full] [--expect-head HASH] [--json]`: checks the event log's hash chain
 * (the newest 10,000 events, or every event with --full), that a remembered head is still in
 * the chain, and capital reconciliation, on the database opened read-only. Exit 4 on a problem.
 */
import { computeEventHash, GENESIS_HASH, type Store } from '../../../persistence/index.js';
import {
  booleanFlag,
  type CommandContext,
  openReadOnly,
  resolveConfig,
  stringFlag,
} from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

/** Events read per page (the store's page limit); memory stays bounded whatever the log size. */
const PAGE_EVENTS = 10_000;
/** The quick check covers this many of the newest events. */
export const QUICK_VERIFY_EVENTS = 10_000;

export interface VerifyReport {
  readonly ok: boolean;
  readonly full: boolean;
  readonly checkedEvents: number;
  readonly fromSeq: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly chainProblem: { readonly seq: number; readonly problem: string } | null;
  readonly expectHead: { readonly hash: string; readonly foundAtSeq: number | null } | null;
  readonly capitalMismatches: readonly { poolId: string; differenceMinor: string }[];
}

interface Walk {
  checked: number;
  problem: { seq: number; problem: string } | null;
  foundAtSeq: number | null;
}

function walkChain(
  store: Store,
  fromSeq: number,
  headSeq: number,
  expectHash: string | null,
  progress: (done: number) => void,
): Walk {
  const walk: Walk = { checked: 0, problem: null, foundAtSeq: null };
  let previous: string | null = fromSeq === 1 ? GENESIS_HASH : null;
  let next = fromSeq;
  while (next <= headSeq && walk.problem === null) {
    const page = store.events.readPage(next, PAGE_EVENTS);
    if (page.length === 0) break;
    for (const event of page) {
      const linked = previous ?? event.prevHash;
      let problem: string | null = null;
      if (event.seq !== next) problem = 'SEQ_GAP';
      else if (event.prevHash !== linked) problem = 'PREV_HASH_MISMATCH';
      else if (
        computeEventHash({ ...event, metadataText: JSON.stringify(event.metadata) }) !== event.hash
      ) {
        // Confirm against the stored bytes (returns at this very row when it is damaged).
        const confirmed = store.events.verifyChain({
          fromSeq: event.seq,
          expectedPrevHash: linked,
        });
        if (!confirmed.ok && confirmed.seq === event.seq) problem = confirmed.problem;
      }
      if (problem !== null) {
        walk.problem = { seq: next, problem };
        break;
      }
      if (event.hash === expectHash) walk.foundAtSeq = event.seq;
      previous = event.hash;
      next++;
      walk.checked++;
    }
    progress(walk.checked);
  }
  if (walk.problem === null && next <= headSeq) walk.problem = { seq: next, problem: 'SEQ_GAP' };
  return walk;
}

function progressBar(out: Output, json: boolean): (done: number, total: number) => void {
  return (done, total) => {
    if (json || !out.tty || total <= PAGE_EVENTS) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const percent = Math.floor((done / total) * 100);
    out.status(
      `verifying [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}% ${done}/${total} events`,
    );
  };
}

export function verifyStore(
  store: Store,
  options: {
    full: boolean;
    expectHash: string | null;
    progress?: (done: number, total: number) => void;
  },
): VerifyReport {
  const head = store.events.head();
  const full = options.full || options.expectHash !== null;
  const headSeq = head?.seq ?? 0;
  const fromSeq = full ? 1 : Math.max(1, headSeq - QUICK_VERIFY_EVENTS + 1);
  const walk = walkChain(store, fromSeq, headSeq, options.expectHash, (done) =>
    options.progress?.(done, headSeq - fromSeq + 1),
  );
  const capital = store.capital.reconcile();
  store.systemState.get(); // throws GOV_CORRUPT_RECORD when the state row is damaged
  const expectHead =
    options.expectHash === null ? null : { hash: options.expectHash, foundAtSeq: walk.foundAtSeq };
  return {
    ok:
      walk.problem === null &&
      capital.ok &&
      (expectHead === null || expectHead.foundAtSeq !== null),
    full,
    checkedEvents: walk.checked,
    fromSeq,
    head,
    chainProblem: walk.problem,
    expectHead,
    capitalMismatches: capital.mismatches.map((m) => ({
      poolId: m.poolId,
      differenceMinor: m.differenceMinor.toString(),
    })),
  };
}

function printReport(out: Output, report: VerifyReport): void {
  const mark = (ok: boolean): string =>
    ok ? out.paint('green', 'ok  ') : out.paint('red', 'FAIL');
  out.line(
    `${mark(report.chainProblem === null)} event log: ${report.checkedEvents} events checked from seq ${report.fromSeq}${report.full ? ' (full)' : ` (newest ${QUICK_VERIFY_EVENTS}; --full checks all)`}`,
  );
  if (report.chainProblem !== null) {
    out.line(`     chain broken at seq ${report.chainProblem.seq}: ${report.chainProblem.problem}`);
  }
  if (report.head !== null) out.line(`     head seq ${report.head.seq} hash ${report.head.hash}`);
  if (report.expectHead !== null) {
    const found = report.expectHead.foundAtSeq;
    out.line(
      `${mark(found !== null)} expected head ${report.expectHead.hash}: ${found === null ? 'not in the chain (events were removed or rewritten)' : `found at seq ${found}`}`,
    );
  }
  out.line(`${mark(report.capitalMismatches.length === 0)} capital reconciliation`);
  for (const m of report.capitalMismatches) {
    out.line(
      `     pool ${m.poolId}: total differs from its accounts by ${m.differenceMinor} minor units`,
    );
  }
}

export async function verifyCommand(context: CommandContext): Promise<ExitCode> {
  const expectHash = stringFlag(context, 'expect-head') ?? null;
  if (expectHash !== null && !/^[0-9a-f]{64}$/.test(expectHash)) {
    throw new CliError(EXIT.USAGE, '--expect-head: expected a 64-character lower-case hex hash');
  }
  const config = resolveConfig(context);
  const store = openReadOnly(config.dbPath);
  let report: VerifyReport;
  try {
    report = verifyStore(store, {
      full: booleanFlag(context, 'full'),
      expectHash,
      progress: progressBar(context.out, context.json),
    });
    context.out.status('');
  } finally {
    store.close();
  }
  if (context.json) context.out.json(report);
  else printReport(context.out, report);
  return report.ok ? EXIT.OK : EXIT.INTEGRITY_FAILURE;
}
