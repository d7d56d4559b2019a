/**
 * Goal: the daemon's control socket answers `ping` and `status`, and nothing else. It used to
 * accept shutdown, observe, resume, restart and ack, which nothing sent (the command line
 * records operator commands in the database for the owner): now such a request, or any unknown
 * command, is refused with BAD_REQUEST naming what the socket answers, and changes nothing.
 */

import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONTROL_COMMANDS,
  type ControlServer,
  startControlServer,
} from '../../../services/cli/control-channel.js';
import { daemonControlHandler } from '../../../services/cli/daemon-control.js';
import { OPERATOR_COMMANDS } from '../../../services/governor/operator-vocabulary.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  h?.cleanup();
  h = undefined;
});

/** The daemon's handler over a real socket, beside a fresh governance. */
async function daemonSocket(): Promise<{ harness: Harness; socketPath: string }> {
  const harness = makeHarness();
  h = harness;
  await harness.gov.runStartupChecks();
  server = await startControlServer(
    join(harness.dir, '.ctl', 'governor.sock'),
    daemonControlHandler({ governance: harness.gov }),
  );
  return { harness, socketPath: server.socketPath };
}

/** Sends a raw request line (any JSON, as a hostile or outdated client could) and reads the answer. */
async function ask(socketPath: string, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(JSON.parse(text) as Record<string, unknown>);
      } catch (error) {
        reject(error);
      }
    });
  });
}

describe('the control socket answers ping and status only', () => {
  it('lists exactly the commands it answers', () => {
    expect(CONTROL_COMMANDS).toEqual(['ping', 'status']);
  });

  it('ping and status are answered live', async () => {
    const { socketPath } = await daemonSocket();
    expect(await ask(socketPath, { command: 'ping' })).toEqual({
      ok: true,
      result: { pid: process.pid, state: 'AGGRESSIVE' },
    });
    expect(await ask(socketPath, { command: 'status' })).toMatchObject({
      ok: true,
      result: { state: 'AGGRESSIVE' },
    });
  });

  it.each(OPERATOR_COMMANDS.map((entry) => entry.name))(
    'regression: the socket accepted %s, which nothing sends; now every command of the operator vocabulary is refused there, naming what it answers, and nothing changes',
    async (command) => {
      const { harness, socketPath } = await daemonSocket();
      const answer = await ask(socketPath, {
        command,
        operator: 'mallory',
        reason: 'over the socket',
        alertId: 'a-1',
      });
      expect(answer).toEqual({
        ok: false,
        code: 'BAD_REQUEST',
        message: `unknown command "${command}": the control socket answers ping and status only; operator commands (governor shutdown|observe|resume|restart|capital adjust|ack) are recorded in the database and carried out by its owner`,
      });
      expect(harness.gov.getState()).toBe('AGGRESSIVE');
      expect(harness.gov.canDeployCapital()).toBe(true);
    },
  );

  it('an unknown command is refused without repeating more than a few characters of it', async () => {
    const { socketPath } = await daemonSocket();
    const answer = await ask(socketPath, { command: `x${'y'.repeat(1_000)}\u202e` });
    expect(answer).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(String(answer.message)).toMatch(
      /^unknown command "xy{30}…": the control socket answers/,
    );
    expect(await ask(socketPath, { command: 7 })).toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
      message: expect.stringMatching(
        /^unknown command: the control socket answers ping and status/,
      ),
    });
    expect(await ask(socketPath, {})).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });
});
