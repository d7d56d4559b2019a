/** Durable, atomic small-file writes now live beside the store: persistence/durable-file.ts. */
export { fsyncDirectory, writeFileDurably } from '../persistence/durable-file.js';
