/**
 * The governor command run in this process (`main` from services/cli/main.ts) with stdout and
 * stderr captured: for tests of the command line that need no child process.
 */
import { vi } from 'vitest';
import { main } from '../../services/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `governor ...argv` in process (NO_COLOR), capturing what it writes. */
export async function runCliInProcess(
  argv: string[],
  env: Record<string, string> = { NO_COLOR: '1' },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv, env);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
