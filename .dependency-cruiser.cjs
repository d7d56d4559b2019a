/**
 * Architecture rules, checked in CI (`npm run depcheck`; test/architecture proves each bites).
 * The layers, bottom up:
 *   core          services/errors.ts, services/clock.ts, services/display-text.ts and the
 *                 machine's vocabulary machines/types.ts: pure, they import only each other
 *   machines/     the statechart: the core and xstate, no I/O
 *   persistence/  the only code that touches SQLite; imports the core only
 *   components    services/health, services/alerts, services/fleet, persistence/integrity: never
 *                 the governor
 *   persistence/fleet/ the only code that speaks to PostgreSQL (pg), like persistence/ for SQLite
 *   governor      services/governor: the facade and its modules; never the shell
 *   shell         services/api (read-only), services/cli, bin/
 * Who owns a database file is one module (services/governor/ownership), reached through its index.
 * and examples/ embed governor through the package's public entry points only. The ccxt adapter
 * (services/venues/ccxt-venue.ts) is reached only through its own entry point ccxt.ts, and ccxt
 * itself (an optional peer dependency) is loaded only lazily, by a command that needs it.
 */
const CORE = [
  '^services/errors\\.ts$',
  '^services/clock\\.ts$',
  '^services/display-text\\.ts$',
  '^machines/types\\.ts$',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No module reaches itself through its imports (type-only imports included).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment:
        'The core (errors, clock, display text, the machine vocabulary) imports only itself: no I/O, no package, no other layer.',
      from: { path: CORE },
      to: { pathNot: CORE },
    },
    {
      name: 'machines-pure',
      severity: 'error',
      comment: 'The statechart imports only the machine modules and xstate: no I/O, no service.',
      from: { path: '^machines/' },
      to: { pathNot: ['^machines/', 'node_modules/xstate/'] },
    },
    {
      name: 'persistence-imports-core-only',
      severity: 'error',
      comment:
        'persistence/ sits under every service: of governor it imports only the core (errors, clock, display text, the machine vocabulary).',
      from: { path: '^persistence/' },
      to: { path: '^(services|machines|bin|examples|test)/', pathNot: CORE },
    },
    {
      name: 'components-never-import-the-governor',
      severity: 'error',
      comment:
        'Health, alerts and integrity are parts the governor composes: they never import it, nor the shell.',
      from: { path: ['^services/health/', '^services/alerts/', '^persistence/integrity/'] },
      to: { path: ['^services/(governor|api|cli)/', '^bin/'] },
    },
    {
      name: 'fleet-is-a-component',
      severity: 'error',
      comment:
        'The fleet lease and operator actions (services/fleet) are a part the governor composes and the command line calls: they never import the governor, the API or the command line.',
      from: { path: '^services/fleet/' },
      to: { path: ['^services/(governor|api|cli|health|alerts)/', '^bin/'] },
    },
    {
      name: 'postgres-only-in-persistence-fleet',
      severity: 'error',
      comment:
        'persistence/fleet/ is the only code that speaks to PostgreSQL (the pg package); the rest reaches the fleet authority through services/fleet.',
      from: { path: '^(services|machines|bin|persistence)/', pathNot: '^persistence/fleet/' },
      to: { path: 'node_modules/pg/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'governor-never-imports-the-shell',
      severity: 'error',
      comment: 'The governor is used by the shell (the API, the command line), never the reverse.',
      from: { path: '^services/governor/' },
      to: { path: ['^services/(api|cli)/', '^bin/'] },
    },
    {
      name: 'cli-persistence-types-only',
      severity: 'error',
      comment:
        'The command line reaches the database through the governor (services/governor: the request channel, the owner record, the read door), never by opening the store itself.',
      from: { path: '^services/cli/' },
      to: { path: '^persistence/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ownership-in-one-module',
      severity: 'error',
      comment:
        'Who owns a database is one module, services/governor/ownership: only it uses the owner lock (persistence/owner-lock.ts); the journal that writes the owner row takes its type.',
      from: {
        pathNot: [
          '^services/governor/ownership/',
          '^persistence/owner-lock\\.ts$',
          '^persistence/mode-journal\\.ts$',
        ],
      },
      to: { path: '^persistence/owner-lock\\.ts$' },
    },
    {
      name: 'ownership-through-its-index',
      severity: 'error',
      comment:
        'Outside the governor, the ownership module is reached through its index (services/governor/ownership/index.ts), or for a read-only look at the owner through find-owner.ts (what `governor status` loads: the index holds the request that starts a GovernanceSystem and the full store); inside, the GovernanceSystem takes its files directly.',
      from: { pathNot: ['^services/governor/'] },
      to: {
        path: '^services/governor/ownership/',
        pathNot: '^services/governor/ownership/(index|find-owner)\\.ts$',
      },
    },
    {
      name: 'source-never-imports-tests',
      severity: 'error',
      comment:
        'Source never imports tests, benchmarks or examples; the one exception is the demo (`governor run --demo`), which is the paper-trader example embedded in the daemon.',
      from: {
        path: '^(services|persistence|machines|bin|index\\.ts|testing\\.ts)',
        pathNot: '^services/cli/demo\\.ts$',
      },
      to: { path: '^(test|bench|examples)/' },
    },
    {
      name: 'main-entry-never-loads-ccxt',
      severity: 'error',
      comment:
        'The ccxt adapter and ccxt sit behind `trading-governor/ccxt` (ccxt.ts): the main entry, the governor and its components never import them, so an engine without ccxt loads none of it.',
      from: {
        path: [
          '^index\\.ts$',
          '^testing\\.ts$',
          '^services/(governor|health|alerts|api)/',
          '^persistence/',
          '^machines/',
        ],
      },
      to: {
        path: [
          '^ccxt\\.ts$',
          '^services/venues/ccxt-venue\\.ts$',
          '(^|/)node_modules/ccxt/',
          '^ccxt$',
        ],
      },
    },
    {
      name: 'ccxt-loaded-lazily',
      severity: 'error',
      comment:
        "ccxt is an optional peer dependency: source imports its types only, and a command that builds an exchange client loads it with `await import('ccxt')` when it runs; source never imports the top-level entry point ccxt.ts either.",
      from: { path: '^(services|persistence|machines|bin|index\\.ts|testing\\.ts|ccxt\\.ts)' },
      // The tsconfig paths make the resolver read a bare 'ccxt' as the top-level ccxt.ts.
      to: {
        path: ['(^|/)node_modules/ccxt/', '^ccxt$', '^ccxt\\.ts$'],
        dependencyTypesNot: ['type-only', 'dynamic-import'],
      },
    },
    {
      name: 'examples-use-the-public-api',
      severity: 'error',
      comment:
        'An example embeds governor as a user would: through index.ts, testing.ts and ccxt.ts (the package entry points) only.',
      from: { path: '^examples/' },
      to: { path: '^(services|persistence|machines|bin)/' },
    },
    {
      name: 'api-no-exchange-adapters',
      severity: 'error',
      comment:
        'The health API must never reach an exchange: no import of examples/ or of any module named adapter.',
      from: { path: '^services/api/' },
      to: { path: ['^examples/', 'adapter'] },
    },
    {
      name: 'api-no-persistence-values',
      severity: 'error',
      comment:
        'The health API may import persistence/ only as types: every persistence module holds write paths. It reads through the read-only Store that GovernanceSystem.openReadOnlyStore() opens.',
      from: { path: '^services/api/' },
      to: { path: '^persistence/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-no-sqlite',
      severity: 'error',
      comment:
        'The health API never opens SQLite itself (persistence/ is the only code that does).',
      from: { path: '^services/api/' },
      to: { path: 'node_modules/better-sqlite3' },
    },
    {
      name: 'sqlite-only-in-persistence',
      severity: 'error',
      comment: 'persistence/ is the only code that touches SQLite (better-sqlite3).',
      from: { path: '^(services|machines|bin)/' },
      to: { path: 'node_modules/better-sqlite3/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-shell-types-only',
      severity: 'error',
      comment:
        'Outside services/api the health API may import values only from errors, logger, the display escaper and the pure machine vocabulary; the governor, health, alerts, operator and fallback-file modules (which act and write) only as types.',
      from: { path: '^services/api/' },
      to: {
        path: '^(services|machines|bin)/',
        pathNot: [
          '^services/api/',
          '^services/errors\\.ts$',
          '^services/logger\\.ts$',
          '^services/display-text\\.ts$',
          '^machines/types\\.ts$',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
