/**
 * Architecture rules checked in CI (`npm run depcheck`): the read-only health API
 * (services/api) imports no exchange adapter and no write path of persistence/. It reads the
 * database through `GovernanceSystem.openReadOnlyStore()` (a connection SQLite opens
 * read-only), so it needs persistence/ and the governor only as types.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
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
