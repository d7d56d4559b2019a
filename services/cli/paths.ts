/**
 * Where the command line looks for things when nothing names them: the config file (read when
 * it exists) and the database.
 */

/** Read when neither --config nor GOVERNOR_CONFIG names a file, and only if it exists. */
export const DEFAULT_CONFIG_PATH = '/etc/governor/governor.yaml';
/** The database when neither --db, GOVERNOR_DB nor the config file names one. */
export const DEFAULT_DB_PATH = './governor.db';
