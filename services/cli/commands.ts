/**
 * Every `governor` command as data: its usage, what it does, its flags with their descriptions,
 * examples and exit codes, and a loader that imports the command's code only when it runs (so
 * `governor --help` or `status` never load the daemon, the HTTP API or the logger). The help
 * text and the shell completion are generated from this table; its operator commands are
 * derived from the operator vocabulary (operator-specs.ts).
 */
import { GOVERNOR_EVENT_TYPES } from '../governor/event-catalogue.js';
import type { CommandSpec, CommandTable, FlagSpec } from './command-spec.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import {
  AUTHORITY_FLAG,
  FLEET_FLAGS,
  OPERATOR_FLAGS,
  operatorSpec,
  operatorSpecsExcept,
} from './operator-specs.js';
import { DEFAULT_CONFIG_PATH } from './paths.js';

export type { CommandRun, CommandSpec, CommandTable, FlagSpec } from './command-spec.js';

/** What each exit code means, in the words of the help text (docs/operations.md has the table). */
export const EXIT_MEANINGS: Readonly<Record<ExitCode, string>> = {
  [EXIT.OK]: 'done (an operator command: confirmed by the owner, or carried out with none running)',
  [EXIT.USAGE]: 'usage: unknown command or flag, missing argument; nothing changed',
  [EXIT.REFUSED]:
    'refused: missing --operator/--reason, invalid configuration, not possible in this state, a restart its pre-flight refused; nothing changed',
  [EXIT.NOT_RUNNING]: 'needs a running owner (resume with nothing running)',
  [EXIT.INTEGRITY_FAILURE]: 'integrity failure (verify; events prune: nothing pruned)',
  [EXIT.NOT_FOUND]: 'not found: no database at the path, unknown alert, pool or account',
  [EXIT.FAILURE]: 'unexpected failure (storage, I/O, failed in the owner)',
  [EXIT.NOT_CONFIRMED]: 'NOT CONFIRMED: an owner runs but did not confirm in time',
  [EXIT.RESTARTED_INTO_SHUTDOWN]:
    'restart carried out, but governor is in SHUTDOWN again (read the new alert)',
  [EXIT.NOT_FLAT]:
    'NOT FLAT: a venue still has open orders, did not answer, or has no credentials (venues flat)',
};

/** The one-line summary of the exit codes in `governor --help`. */
export const EXIT_SUMMARY =
  'exit codes: 0 ok, 1 usage, 2 refused/invalid, 3 needs a running owner, 4 integrity failure, 5 not found, 6 failure, 7 the owner did not confirm, 8 restarted into SHUTDOWN again, 9 a venue not flat';

export const COMMON_FLAGS: Readonly<Record<string, FlagSpec>> = {
  db: {
    type: 'string',
    value: 'PATH',
    description: 'the database (default ./governor.db; GOVERNOR_DB; `db` in the config)',
  },
  config: {
    type: 'string',
    value: 'FILE',
    description: `the config file, YAML or JSON (GOVERNOR_CONFIG; default ${DEFAULT_CONFIG_PATH} when it exists)`,
  },
  socket: {
    type: 'string',
    value: 'PATH',
    description: "the daemon's control socket (default: beside the database)",
  },
  json: { type: 'boolean', description: 'machine-readable output' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
};

const GRANT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'operator-role': {
    type: 'string',
    value: 'ROLE',
    description: "the operator's PostgreSQL role (a login role, or a group role for its members)",
  },
  scope: {
    type: 'string',
    value: 'S',
    description: 'the scope; the grant covers every scope under it',
  },
};

/** The fleet authority's flags of `run` and `config check`: each overrides its key of the config file's `authority`. */
const RUN_AUTHORITY_FLAGS: Readonly<Record<string, FlagSpec>> = {
  authority: {
    ...AUTHORITY_FLAG,
    description:
      'the fleet authority, postgresql://... (authority.url; GOVERNOR_AUTHORITY; else the PG* variables); docs/fleet.md',
  },
  scope: {
    type: 'string',
    multiple: true,
    value: 'S',
    description:
      'a fleet scope this host belongs to (repeatable; replaces authority.scopes): the fleet authority is on',
  },
  'fleet-host': {
    type: 'string',
    value: 'NAME',
    description: "this host's name in the fleet (authority.host; default: the hostname)",
  },
  'lease-ms': {
    type: 'string',
    value: 'MS',
    description: 'the fleet lease (authority.leaseMs; default 3000; renewed every lease / 3)',
  },
  'authority-loss-ms': {
    type: 'string',
    value: 'MS',
    description:
      'authority lost this long: OBSERVE_ONLY (AUTHORITY_LOST) (authority.authorityLossMs; default 120000)',
  },
};

/** The flags that override the configuration (`run` and `config check`). */
const CONFIG_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'api-host': {
    type: 'string',
    value: 'HOST',
    description: 'health API address (default 127.0.0.1)',
  },
  'api-port': {
    type: 'string',
    value: 'PORT',
    description: 'health API port (default 8080; 0 picks a free one)',
  },
  'no-api': { type: 'boolean', description: 'do not start the health API' },
  'desired-mode': {
    type: 'string',
    value: 'MODE',
    choices: ['AGGRESSIVE', 'OBSERVE_ONLY'],
    description: 'the highest mode to reach after the checks (default AGGRESSIVE)',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'pino log level on stderr (default info; --demo: warn)',
  },
  threshold: {
    type: 'string',
    multiple: true,
    value: 'NAME=MS',
    description:
      'override one threshold (repeatable), e.g. --threshold marketDataShutdownAfterMs=60000',
  },
};

const DEMO_FAULT_NAMES = ['market-stall', 'error-storm', 'capital-drift', 'heartbeat-stall'];
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    usage:
      'run [--demo] [--demo-fault FAULT] [--api-host H] [--api-port P] [--no-api] [--desired-mode M] [--threshold NAME=MS]... [--log-level L]',
    summary: 'the daemon: owns the database, runs the lifecycle, serves status and the health API',
    description:
      'Opens the database as its one owner, validates everything it needs first (configuration, alert sinks, control socket, health API port and token: any problem exits 2 before the lifecycle starts), then runs the startup checks and the heartbeat, fail-safe and integrity timers. Under systemd (NOTIFY_SOCKET set) it sends READY=1 once the lifecycle settles, WATCHDOG=1 while heartbeats succeed, STOPPING=1 on SIGTERM. SIGTERM or SIGINT stop it gracefully.',
    flags: {
      demo: {
        type: 'boolean',
        description: 'embed the paper trader (simulated feed and exchange), thresholds in seconds',
      },
      'demo-fault': {
        type: 'string',
        value: 'FAULT',
        choices: DEMO_FAULT_NAMES,
        description: `inject a fault 5 s after the gate opens: ${DEMO_FAULT_NAMES.join(', ')}`,
      },
      ...CONFIG_FLAGS,
      ...RUN_AUTHORITY_FLAGS,
    },
    examples: [
      'governor run --config /etc/governor/governor.yaml',
      'governor run --authority postgresql://host_1@pg.internal/governor --scope firm/desk-a/strategy-x',
      'governor run --db ./demo.db --demo --demo-fault market-stall',
    ],
    exits: [EXIT.OK, EXIT.USAGE, EXIT.REFUSED],
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  {
    name: 'status',
    usage: 'status [--json]',
    summary: 'the live state (gate, cause, latch, ages), or what the database recorded',
    description:
      'Asks the daemon over its control socket (retrying for up to 3 s), else reads the database read-only: an engine that embeds governor is shown as recorded, a database nobody owns as NOT RUNNING (or SHUTDOWN when latched), never as trading.',
    flags: {},
    examples: ['governor status', 'governor status --json | jq .state'],
    exits: [EXIT.OK, EXIT.NOT_FOUND],
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'verify',
    usage: 'verify [--full] [--expect-head HASH|SEQ:HASH] [--json]',
    summary: 'read-only integrity check of the whole database',
    description:
      'Runs the startup verifier: the event log (hash chain, seq continuity, timestamps, duplicate ids, head anchor), snapshots, capital, strategies and the system mode. Each violation is printed with its cause and action.',
    flags: {
      full: {
        type: 'boolean',
        description: 'walk every event and check the file structure (default: from the anchor)',
      },
      'expect-head': {
        type: 'string',
        value: 'HASH',
        description: 'a head you kept elsewhere (SEQ:HASH or HASH): it must be in the chain',
      },
    },
    examples: ['governor verify --full', 'governor verify --expect-head "$(cat head.txt)"'],
    exits: [EXIT.OK, EXIT.USAGE, EXIT.INTEGRITY_FAILURE, EXIT.NOT_FOUND],
    load: async () => (await import('./commands/verify.js')).verifyCommand,
  },
  {
    name: 'alerts',
    usage: 'alerts [--all] [--json]',
    summary: 'unacknowledged alerts with their recommended action and delivery status',
    description:
      'Lists the unacknowledged alerts (every alert with --all), newest first, each with its cause, the exact command to run next and its delivery status per sink. Read-only.',
    flags: { all: { type: 'boolean', description: 'every alert, acknowledged and resolved too' } },
    examples: ['governor alerts', 'governor alerts --all --json'],
    exits: [EXIT.OK, EXIT.NOT_FOUND],
    load: async () => (await import('./commands/alerts.js')).alertsCommand,
  },
  operatorSpec('ack'),
  {
    name: 'events',
    usage: 'events [--limit N] [--type TYPE]... [--since WHEN] [--follow] [--json]',
    summary: 'the event log, newest last; filter by type and time',
    description:
      'Prints the newest events (default 20) matching the filters, then with --follow polls every 500 ms for new ones. Operator actions show who did what. --since takes an ISO-8601 time or an age such as 30s, 15m, 2h, 7d.',
    flags: {
      limit: { type: 'string', value: 'N', description: 'how many (default 20, at most 10000)' },
      type: {
        type: 'string',
        multiple: true,
        value: 'TYPE',
        choices: Object.keys(GOVERNOR_EVENT_TYPES),
        description:
          "only events of this type (repeatable, or comma-separated): governor's own, or a type the engine wrote",
      },
      since: {
        type: 'string',
        value: 'WHEN',
        description: 'only events at or after this time (ISO-8601) or age (30s, 15m, 2h, 7d)',
      },
      follow: { type: 'boolean', description: 'keep printing new events until Ctrl-C' },
    },
    examples: [
      'governor events --type OPERATOR_ACTION --since 7d',
      'governor events --type SYSTEM_SHUTDOWN,CAPITAL_CORRECTED --limit 100',
      'governor events --follow --json',
    ],
    exits: [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND],
    load: async () => (await import('./commands/events.js')).eventsCommand,
  },
  {
    name: 'events prune',
    usage:
      'events prune --through-seq N | --older-than DURATION --archive PATH --operator NAME --reason TEXT [--json]',
    summary: 'offline: archive the event log, then cut its history through a seq, audited',
    description:
      'With governor stopped (refused, exit 2, while a daemon or an embedding engine owns the file): verifies the database, writes a complete archive with SQLite VACUUM INTO (plus its head file), verifies the archive alone, then in one transaction deletes the events through seq N, records the new chain base and appends an OPERATOR_ACTION PRUNE event naming N, its hash and the archive. --older-than prunes the events older than the duration (90d, 12h). The SYSTEM_SHUTDOWN that justifies a latch in force, and the newest event, are never pruned. A database or archive that does not verify exits 4 with nothing pruned.',
    flags: {
      'through-seq': { type: 'string', value: 'N', description: 'prune the events with seq ≤ N' },
      'older-than': {
        type: 'string',
        value: 'DURATION',
        description: 'prune the events older than this: 90d, 12h, 30m, 45s',
      },
      archive: {
        type: 'string',
        value: 'PATH',
        description: 'the archive to write first (a new file; PATH.head.json beside it)',
      },
      ...OPERATOR_FLAGS,
    },
    examples: [
      'governor events prune --older-than 90d --archive /backup/events-$(date +%F).db --operator "$(id -un)" --reason "INC-12: keep 90 days"',
      'governor events prune --through-seq 1000000 --archive /backup/events-1M.db --operator "$(id -un)" --reason "yearly archive"',
    ],
    exits: [
      EXIT.OK,
      EXIT.USAGE,
      EXIT.REFUSED,
      EXIT.INTEGRITY_FAILURE,
      EXIT.NOT_FOUND,
      EXIT.FAILURE,
    ],
    load: async () => (await import('./commands/events-prune.js')).eventsPruneCommand,
  },
  {
    name: 'diagram',
    usage: 'diagram',
    summary: 'the lifecycle statechart as Mermaid',
    description: 'Prints the statechart, generated from the machine definition.',
    flags: {},
    examples: ['governor diagram > governor.mmd'],
    exits: [EXIT.OK],
    load: async () => (await import('./commands/diagram.js')).diagramCommand,
  },
  // shutdown, observe, resume, restart, capital adjust and any command the vocabulary adds.
  ...operatorSpecsExcept(['ack']),
  {
    name: 'venues flat',
    usage: 'venues flat [--config FILE] [--within MS] [--json]',
    summary: "cancel every working order at the config's venues and confirm flat",
    description:
      "Reads the config file's venues (each a ccxt exchange id and the environment variables that hold its credentials; keys never go in the file), cancels every working order at all of them at once through ccxt, and lists open orders until each counts 0, cancelling again while orders remain, with bounded backoff, for at most --within ms (default 30000). Prints one line per venue: FLAT, or NOT FLAT with the open orders and the last error. Needs no database and no owner: the way to flat when the engine that owns the venues is frozen or gone. Not recorded in the event log (it changes nothing in governor); use governor shutdown for the audited kill.",
    flags: {
      within: {
        type: 'string',
        value: 'MS',
        description: 'give up on a venue not flat after this long (default 30000)',
      },
    },
    examples: [
      'KRAKEN_API_KEY=... KRAKEN_API_SECRET=... governor venues flat --config /etc/governor/governor.yaml',
      'governor venues flat --within 10000 --json',
    ],
    exits: [EXIT.OK, EXIT.USAGE, EXIT.REFUSED, EXIT.NOT_FLAT],
    load: async () => (await import('./commands/venues.js')).venuesFlatCommand,
  },
  {
    name: 'fleet init',
    usage: 'fleet init --authority URL [--scope S]... [--json]',
    summary: 'create or migrate the fleet authority schema, roles and grants in PostgreSQL',
    description:
      'Applies the versioned migrations of the fleet schema (scopes, hosts, the audit of kills and releases, the operator grants per scope), creates the group roles governor_fleet_host and governor_fleet_operator and their grants. Idempotent; refuses a schema newer than this governor. Connect as the database owner. With --scope, grants the role running it the operator rights on each scope (the root scopes, e.g. firm): a kill or release needs a grant on the scope or a wider one.',
    flags: {
      authority: AUTHORITY_FLAG,
      scope: {
        type: 'string',
        multiple: true,
        value: 'S',
        description: 'grant the role running the init the operator rights on S (repeatable)',
      },
    },
    examples: [
      'governor fleet init --authority postgresql://admin@pg.internal/governor --scope firm',
    ],
    exits: [EXIT.OK, EXIT.REFUSED, EXIT.FAILURE],
    load: async () => (await import('./commands/fleet.js')).fleetInitCommand,
  },
  {
    name: 'fleet grant',
    usage: 'fleet grant --authority URL --operator-role ROLE --scope S [--json]',
    summary: 'let a PostgreSQL role kill and release a fleet scope and every scope under it',
    description:
      "Records an operator grant in the fleet authority: the role, and every role that is a member of it, may kill and release S and every scope under it (firm/desk-a covers firm/desk-a/strategy-x, not firm or firm/desk-b). PostgreSQL checks it inside the kill and release functions against the connection's login role. The schema owner's action (operators and hosts are refused); idempotent; audited in operator_scope_changes.",
    flags: { authority: AUTHORITY_FLAG, ...GRANT_FLAGS },
    examples: [
      'governor fleet grant --authority postgresql://admin@pg.internal/governor --operator-role alice --scope firm/desk-a',
    ],
    exits: [EXIT.OK, EXIT.REFUSED, EXIT.FAILURE],
    load: async () => (await import('./commands/fleet.js')).fleetGrantCommand,
  },
  {
    name: 'fleet revoke',
    usage: 'fleet revoke --authority URL --operator-role ROLE --scope S [--json]',
    summary: "withdraw one of a role's fleet operator grants",
    description:
      "Removes the grant of S to the role and prints the grants it still has (a wider grant, or one through a group role it is in, stays in force). The schema owner's action; audited. Refused (exit 2) when the role holds no grant of exactly S.",
    flags: { authority: AUTHORITY_FLAG, ...GRANT_FLAGS },
    examples: [
      'governor fleet revoke --authority postgresql://admin@pg.internal/governor --operator-role alice --scope firm/desk-a',
    ],
    exits: [EXIT.OK, EXIT.REFUSED, EXIT.FAILURE],
    load: async () => (await import('./commands/fleet.js')).fleetRevokeCommand,
  },
  {
    name: 'fleet status',
    usage: 'fleet status --authority URL [--json]',
    summary: 'every fleet scope and host: state, epoch, gate, lease expiry, last confirmation',
    description:
      "Reads the fleet authority: each scope (open or killed, its epoch, who and why) and each host (its state and gate as last reported, its lease's expiry on the database's clock, its last confirmation) and the NOTIFY queue's usage.",
    flags: { authority: AUTHORITY_FLAG },
    examples: ['governor fleet status --authority "$FLEET_URL" --json'],
    exits: [EXIT.OK, EXIT.REFUSED, EXIT.FAILURE],
    load: async () => (await import('./commands/fleet.js')).fleetStatusCommand,
  },
  {
    name: 'fleet release',
    usage: 'fleet release --authority URL --scope S --operator NAME --reason TEXT [--wait-ms MS]',
    summary: 'release a killed fleet scope (hosts then restart through their own checks)',
    description:
      'Releases the scope and every killed scope under it (each epoch raised again); a wider scope still killed stays killed. No host trades by it: each host restarts through its own pre-flight and checks (its local governor restart). Reports per host whether that restart would pass, or why it would be refused. Refused (exit 2) when nothing at or under the scope is killed.',
    flags: { ...OPERATOR_FLAGS, ...FLEET_FLAGS },
    examples: [
      'governor fleet release --authority "$FLEET_URL" --scope firm/desk-a --operator "$(id -un)" --reason "INC-124 resolved"',
    ],
    exits: [EXIT.OK, EXIT.REFUSED, EXIT.FAILURE],
    load: async () => (await import('./commands/fleet.js')).fleetReleaseCommand,
  },
  {
    name: 'config check',
    usage:
      'config check [--config FILE] [--api-host H] [--api-port P] [--no-api] [--desired-mode M] [--threshold NAME=MS]... [--log-level L] [--json]',
    summary: 'validate the configuration and print the effective one, secrets masked',
    description:
      'Merges defaults, the config file, GOVERNOR_* variables and flags exactly as `governor run` does, checks everything run would check before starting (thresholds, alert sinks, API host and token, control socket path, database directory), and prints the result with secrets masked. An invalid key exits 2 with its name.',
    flags: {
      ...CONFIG_FLAGS,
      ...RUN_AUTHORITY_FLAGS,
      demo: { type: 'boolean', description: 'include the --demo profile (thresholds in seconds)' },
    },
    examples: [
      'governor config check --config /etc/governor/governor.yaml',
      'GOVERNOR_API_PORT=9090 governor config check --json',
    ],
    exits: [EXIT.OK, EXIT.USAGE, EXIT.REFUSED],
    load: async () => (await import('./commands/config-check.js')).configCheckCommand,
  },
  {
    name: 'completion',
    usage: 'completion bash|zsh|fish',
    summary: 'print a shell completion script',
    description:
      'Prints the completion script for the shell: commands, subcommands, flags and their values.',
    flags: {},
    positionalChoices: ['bash', 'zsh', 'fish'],
    examples: [
      'governor completion bash > /etc/bash_completion.d/governor',
      'source <(governor completion zsh)   # in ~/.zshrc',
      'governor completion fish > ~/.config/fish/completions/governor.fish',
    ],
    exits: [EXIT.OK, EXIT.USAGE],
    load: async () => (await import('./completion.js')).completionCommand(COMMAND_TABLE),
  },
];

/** The first words of subcommands (`capital`, `config`, `events`: also a command of its own). */
export const COMMAND_GROUPS: ReadonlySet<string> = new Set(
  COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] as string),
);

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** Every flag a command accepts: the common ones and its own. */
export function flagsOf(command: CommandSpec): Readonly<Record<string, FlagSpec>> {
  return { ...COMMON_FLAGS, ...command.flags };
}

/** The table as the completion generator reads it (it gets it passed: no import back here). */
export const COMMAND_TABLE: CommandTable = {
  commands: COMMANDS,
  groups: COMMAND_GROUPS,
  flagsOf,
};
