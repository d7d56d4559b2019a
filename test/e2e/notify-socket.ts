/**
 * A notify socket the test owns, standing in for systemd's: a Unix datagram socket (Node has
 * none, so a small python3 program binds it) that records every message sent to it and closes
 * the file descriptors a `BARRIER=1` carries, as systemd does, so `systemd-notify` returns.
 * `notifySocketSupport()` says why the tests must be skipped when python3 or systemd-notify is
 * missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RECEIVER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data, ancillary, flags, address = s.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps({"message": data.decode("utf-8", "replace")}), flush=True)
`;

/** How long the receiver may take to bind (python3 through a version manager is slow). */
const BIND_WAIT_MS_MAX = 20_000;
/** How long `waitFor` waits for a message before failing with what arrived. */
export const MESSAGE_WAIT_MS_MAX = 30_000;

function available(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.error === undefined && result.status === 0;
}

/** Null when the tests can run; otherwise why not. */
export function notifySocketSupport(): string | null {
  if (!available('python3', ['-c', 'import socket; socket.AF_UNIX'])) {
    return 'python3 is not available to bind a Unix datagram socket';
  }
  if (!available('systemd-notify', ['--version'])) {
    return 'systemd-notify (Debian package systemd) is not installed';
  }
  return null;
}

export interface NotifySocket {
  readonly path: string;
  /** Every datagram received so far, in order (e.g. `READY=1\nSTATUS=AGGRESSIVE`). */
  messages(): string[];
  /** Resolves with the first message (from `from` on) that `predicate` accepts. */
  waitFor(what: string, predicate: (message: string) => boolean, from?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startNotifySocket(): Promise<NotifySocket> {
  const directory = mkdtempSync(join(tmpdir(), 'gov-notify-'));
  const path = join(directory, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const received: string[] = [];
  let bound = false;
  let stderr = '';
  let pending = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let end = pending.indexOf('\n');
    while (end !== -1) {
      const line = JSON.parse(pending.slice(0, end)) as { bound?: boolean; message?: string };
      if (line.bound === true) bound = true;
      if (line.message !== undefined) received.push(line.message);
      pending = pending.slice(end + 1);
      end = pending.indexOf('\n');
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = performance.now();
  while (!bound) {
    if (performance.now() - started > BIND_WAIT_MS_MAX || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the notify socket receiver did not bind: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    path,
    messages: () => [...received],
    async waitFor(what, predicate, from = 0) {
      const deadline = performance.now() + MESSAGE_WAIT_MS_MAX;
      for (;;) {
        const found = received.slice(from).find(predicate);
        if (found !== undefined) return found;
        if (performance.now() > deadline) {
          throw new Error(`no ${what} on the notify socket; received: ${JSON.stringify(received)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The fields of one sd_notify message. */
export function fieldsOf(message: string): Record<string, string> {
  return Object.fromEntries(
    message
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
