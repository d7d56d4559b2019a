/** SYSTEM_MODE: the system_state row exists, with a known desired mode and lifecycle state. */
import { LIFECYCLE_STATES, MODES } from '../../../machines/types.js';
import type { IntegrityViolation } from '../violation.js';
import type { TableCheck } from './check.js';

type SystemStateFindingKind = 'MISSING_ROW' | 'INVALID_DESIRED_MODE' | 'INVALID_LIFECYCLE_STATE';

const MODE_SET: ReadonlySet<string> = new Set(MODES);
const LIFECYCLE_SET: ReadonlySet<string> = new Set(LIFECYCLE_STATES);

function violation(kind: SystemStateFindingKind, detail: string): IntegrityViolation {
  return {
    check: 'SYSTEM_MODE',
    severity: 'CRITICAL',
    description: `system state: ${detail}`,
    location: { table: 'system_state', kind },
    rootCause: 'system_state was written outside governor',
    recommendedAction:
      'Set the desired mode with an operator command (`governor observe` or `governor resume`) or restore system_state from a backup, then `governor resume --operator NAME --reason TEXT` (`governor restart --operator NAME --reason TEXT` when it is in SHUTDOWN).',
  };
}

export const systemModeCheck: TableCheck = {
  name: 'SYSTEM_MODE',
  scan(run) {
    const row = run.store.integrityScan.read('integrity.systemState', (db) =>
      db
        .prepare<[], { desired: unknown; lifecycle: unknown }>(
          'SELECT desired_mode AS desired, lifecycle_state AS lifecycle FROM system_state WHERE id = 1',
        )
        .get(),
    );
    const violations: IntegrityViolation[] = [];
    if (row === undefined) {
      violations.push(violation('MISSING_ROW', 'system_state has no row'));
    } else {
      if (typeof row.desired !== 'string' || !MODE_SET.has(row.desired)) {
        violations.push(
          violation(
            'INVALID_DESIRED_MODE',
            `desired mode ${String(row.desired).slice(0, 40)} is not one of ${MODES.join(', ')}`,
          ),
        );
      }
      if (
        row.lifecycle !== null &&
        (typeof row.lifecycle !== 'string' || !LIFECYCLE_SET.has(row.lifecycle))
      ) {
        violations.push(
          violation(
            'INVALID_LIFECYCLE_STATE',
            `lifecycle state ${String(row.lifecycle).slice(0, 40)} is not one of ${LIFECYCLE_STATES.join(', ')}`,
          ),
        );
      }
    }
    return { violations, dropped: 0, resumeAt: 0 };
  },
};
