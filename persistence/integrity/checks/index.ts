/**
 * The table checks, in the order their violations are reported (after the event log's). Adding
 * a check: one file beside these that implements `TableCheck`, and one line here.
 */
import { capitalCheck } from './capital.js';
import type { TableCheck } from './check.js';
import { snapshotsCheck } from './snapshots.js';
import { strategiesCheck } from './strategies.js';
import { systemModeCheck } from './system-mode.js';

export const TABLE_CHECKS: readonly TableCheck[] = [
  snapshotsCheck,
  capitalCheck,
  strategiesCheck,
  systemModeCheck,
];
