/**
 * The database's real path (symlinks resolved): what its side files and its control socket are
 * named after, so every process that opens one database by any name meets the same ones. A
 * door for the command line, which reaches persistence only through the governor.
 */
export { canonicalDatabasePath } from '../../persistence/side-files.js';
