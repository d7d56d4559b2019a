/**
 * `governor fleet init | status | release | grant | revoke` and `governor shutdown --authority
 * URL --scope S`: the fleet authority's operator commands (docs/fleet.md). The authority is
 * `--authority URL`, else GOVERNOR_AUTHORITY, else the standard PG* variables. A kill prints each
 * host's confirmation as it arrives and names the hosts that did not confirm by their lease's
 * end. Grants are the schema owner's: which role may kill and release which scope.
 */
import { displayText } from '../../display-text.js';
import {
  type AuthorityTarget,
  fleetGrant,
  fleetInit,
  fleetKill,
  fleetRelease,
  fleetRevoke,
  fleetStatus,
  type GrantResult,
  type HostOutcome,
} from '../../fleet/operator.js';
import { type CommandContext, stringFlag } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { requireOperatorFlags } from './operator.js';

export function authorityTarget(context: CommandContext): AuthorityTarget {
  const url = stringFlag(context, 'authority') ?? context.env.GOVERNOR_AUTHORITY;
  return url === undefined || url === '' ? {} : { url };
}

function requireScope(context: CommandContext, command: string): string {
  const scope = stringFlag(context, 'scope');
  if (scope === undefined) {
    throw new CliError(
      EXIT.REFUSED,
      `refused: governor ${command} needs --scope S (e.g. firm/desk-a); nothing was changed`,
    );
  }
  return scope;
}

function waitFlag(context: CommandContext): { waitMs?: number } {
  const raw = stringFlag(context, 'wait-ms');
  if (raw === undefined) return {};
  const waitMs = Number(raw);
  if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > 120_000) {
    throw new CliError(EXIT.USAGE, '--wait-ms: expected an integer from 0 to 120000');
  }
  return { waitMs };
}

function outcomeLine(outcome: HostOutcome): string {
  const host = displayText(outcome.host);
  switch (outcome.outcome) {
    case 'confirmed':
      return `${host}: ${displayText(outcome.state ?? '?')}, ${outcome.latencyMs ?? '?'} ms`;
    case 'not-confirmed':
      return `${host}: NOT CONFIRMED: ${displayText(outcome.detail ?? '')}; its gate closed by its lease's end`;
    case 'ready':
      return `${host}: ready for its local governor restart (${displayText(outcome.state ?? '?')})`;
    case 'refused':
      return `${host}: a restart would be refused: ${displayText(outcome.detail ?? '')}`;
    case 'not-reporting':
      return `${host}: not reporting: ${displayText(outcome.detail ?? '')}`;
  }
}

export async function fleetInitCommand(context: CommandContext): Promise<ExitCode> {
  const raw = context.values.scope;
  const scopes = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const result = await fleetInit({ ...authorityTarget(context), scopes });
  if (context.json) {
    context.out.json(result);
    return EXIT.OK;
  }
  context.out.line(
    result.applied.length === 0
      ? `fleet schema already at version ${result.version}: nothing to apply`
      : `fleet schema at version ${result.version} (applied: ${result.applied.join(', ')})`,
  );
  context.out.line(
    `roles: ${result.roles.host} (hosts: read scopes, write their own row), ${result.roles.operator} (kill and release the scopes granted to them)`,
  );
  if (scopes.length > 0) {
    context.out.line(
      `operator grants of ${displayText(result.initRole)}: ${scopes.join(', ')}${result.granted.length < scopes.length ? ' (some already held)' : ''}`,
    );
  }
  context.out.line(
    `next: CREATE ROLE host_1 LOGIN PASSWORD '...' IN ROLE ${result.roles.host}; and for each operator: CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE ${result.roles.operator}; then governor fleet grant --operator-role alice --scope firm/desk-a`,
  );
  return EXIT.OK;
}

function requireOperatorRole(context: CommandContext, command: string): string {
  const role = stringFlag(context, 'operator-role');
  if (role === undefined) {
    throw new CliError(
      EXIT.REFUSED,
      `refused: governor ${command} needs --operator-role ROLE (a PostgreSQL role); nothing was changed`,
    );
  }
  return role;
}

function grantsLine(result: GrantResult): string {
  const scopes = result.grants.map((g) => g.scope);
  return `${displayText(result.operatorRole)} now holds: ${scopes.length === 0 ? 'no grant of its own' : scopes.join(', ')}`;
}

/** `governor fleet grant --operator-role ROLE --scope S`: the schema owner's grant. */
export async function fleetGrantCommand(context: CommandContext): Promise<ExitCode> {
  const operatorRole = requireOperatorRole(context, 'fleet grant');
  const scope = requireScope(context, 'fleet grant');
  const result = await fleetGrant({ ...authorityTarget(context), operatorRole, scope });
  if (context.json) {
    context.out.json(result);
    return EXIT.OK;
  }
  context.out.line(
    result.changed
      ? `granted ${displayText(operatorRole)} the operator rights on ${scope} and every scope under it`
      : `${displayText(operatorRole)} already held ${scope}: nothing changed`,
  );
  context.out.line(grantsLine(result));
  return EXIT.OK;
}

/** `governor fleet revoke --operator-role ROLE --scope S`. */
export async function fleetRevokeCommand(context: CommandContext): Promise<ExitCode> {
  const operatorRole = requireOperatorRole(context, 'fleet revoke');
  const scope = requireScope(context, 'fleet revoke');
  const result = await fleetRevoke({ ...authorityTarget(context), operatorRole, scope });
  const exitCode = result.changed ? EXIT.OK : EXIT.REFUSED;
  if (context.json) {
    context.out.json({ ...result, exitCode });
    return exitCode;
  }
  if (result.changed) {
    context.out.line(`revoked the grant of ${scope} to ${displayText(operatorRole)}`);
    context.out.line(grantsLine(result));
  } else {
    context.out.error(
      `refused: ${displayText(operatorRole)} holds no grant of ${scope}; nothing was changed (${grantsLine(result)})`,
    );
  }
  return exitCode;
}

export async function fleetStatusCommand(context: CommandContext): Promise<ExitCode> {
  const snapshot = await fleetStatus(authorityTarget(context));
  if (context.json) {
    context.out.json(snapshot);
    return EXIT.OK;
  }
  const { out } = context;
  out.line(`scopes (${snapshot.scopes.length}):`);
  out.table(
    snapshot.scopes.map((s) => [
      s.scope,
      s.state === 'killed' ? out.paint('red', 'KILLED') : 'open',
      String(s.epoch),
      displayText(s.changedBy),
      displayText(s.reason),
      s.changedAt,
    ]),
    ['SCOPE', 'STATE', 'EPOCH', 'BY', 'REASON', 'AT'],
  );
  out.line(`hosts (${snapshot.hosts.length}):`);
  out.table(
    snapshot.hosts.map((h) => {
      const last = Object.entries(h.confirmations)
        .sort(([, a], [, b]) => b.at.localeCompare(a.at))
        .at(0);
      return [
        displayText(h.host),
        displayText(h.state ?? '?'),
        h.gateOpen ? out.paint('green', 'open') : 'closed',
        h.leaseExpiresAt ?? 'never',
        last === undefined ? '-' : `${last[0]}@${last[1].epoch} ${last[1].state} ${last[1].at}`,
        h.scopes.join(','),
      ];
    }),
    ['HOST', 'STATE', 'GATE', 'LEASE EXPIRES', 'LAST CONFIRMATION', 'SCOPES'],
  );
  out.line(`operator grants (${snapshot.grants.length}):`);
  out.table(
    snapshot.grants.map((g) => [
      displayText(g.roleName),
      g.scope,
      displayText(g.grantedBy),
      g.grantedAt,
    ]),
    ['ROLE', 'SCOPE (AND UNDER IT)', 'GRANTED BY', 'AT'],
  );
  out.line(`NOTIFY queue usage: ${snapshot.notificationQueueUsage}`);
  return EXIT.OK;
}

/** `governor shutdown --authority URL --scope S`: the fleet kill. */
export async function fleetKillCommand(context: CommandContext): Promise<ExitCode> {
  const request = requireOperatorFlags(context, 'shutdown');
  const scope = requireScope(context, 'shutdown --authority');
  const result = await fleetKill({
    ...authorityTarget(context),
    ...waitFlag(context),
    scope,
    ...request,
    progress: (outcome) => {
      if (context.json) return;
      if (outcome.outcome === 'confirmed') context.out.line(outcomeLine(outcome));
      else context.out.error(outcomeLine(outcome));
    },
  });
  const unconfirmed = result.hosts.filter((h) => h.outcome !== 'confirmed');
  const exitCode = unconfirmed.length === 0 ? EXIT.OK : EXIT.NOT_CONFIRMED;
  if (context.json) {
    context.out.json({ ...result, exitCode });
    return exitCode;
  }
  context.out.line(
    `fleet kill of ${scope} committed at epoch ${result.epoch} by ${displayText(request.operator)}: ${result.hosts.length - unconfirmed.length} of ${result.hosts.length} hosts confirmed`,
  );
  if (unconfirmed.length > 0) {
    context.out.error(
      `NOT CONFIRMED: ${unconfirmed.map((h) => displayText(h.host)).join(', ')} (their gates close by their lease's end without a message)`,
    );
    context.out.error(
      "a host frozen or dead now cancels nothing: its venues with a dead man's switch cancel when their countdown runs out; for those without one, run governor venues flat --config FILE with that host's configuration (docs/fleet.md)",
    );
  }
  return exitCode;
}

export async function fleetReleaseCommand(context: CommandContext): Promise<ExitCode> {
  const request = requireOperatorFlags(context, 'fleet release');
  const scope = requireScope(context, 'fleet release');
  const result = await fleetRelease({
    ...authorityTarget(context),
    ...waitFlag(context),
    scope,
    ...request,
    progress: (outcome) => {
      if (!context.json) context.out.line(outcomeLine(outcome));
    },
  });
  if (result.released.length === 0) {
    if (context.json) context.out.json({ ...result, exitCode: EXIT.REFUSED });
    else context.out.error(`refused: no killed scope at or under ${scope}; nothing was changed`);
    return EXIT.REFUSED;
  }
  if (context.json) {
    context.out.json({ ...result, exitCode: EXIT.OK });
    return EXIT.OK;
  }
  context.out.line(
    `released ${result.released.map((r) => `${r.scope} (epoch ${r.epoch})`).join(', ')} by ${displayText(request.operator)}: no host trades until its own governor restart passes its pre-flight and checks`,
  );
  if (result.stillKilled.length > 0) {
    context.out.error(
      `still killed (wider): ${result.stillKilled.join(', ')}: the hosts under it stay closed`,
    );
  }
  const refused = result.hosts.filter((h) => h.outcome === 'refused');
  if (refused.length > 0) {
    context.out.error(`refused a restart: ${refused.map((h) => displayText(h.host)).join(', ')}`);
  }
  return EXIT.OK;
}
