/**
 * Test support: a TCP proxy on loopback under the test's control, between one host and the
 * database. `stall()` stops carrying bytes in both directions without closing anything (a
 * partition that stalls rather than refuses: the host's connection hangs, as behind a dead
 * router); `heal()` carries them again, with what was held back.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface StallProxy {
  readonly port: number;
  stall(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Bytes held back while stalled, per direction, at most (a bounded test proxy). */
const HELD_BYTES_MAX = 16 * 1024 * 1024;

export function startStallProxy(targetPort: number): Promise<StallProxy> {
  const flushers = new Set<() => void>();
  const sockets = new Set<Socket>();
  let stalled = false;
  const forward = (from: Socket, to: Socket): (() => void) => {
    const held: Buffer[] = [];
    let heldBytes = 0;
    from.on('data', (chunk: Buffer) => {
      if (!stalled) {
        to.write(chunk);
        return;
      }
      heldBytes += chunk.length;
      if (heldBytes > HELD_BYTES_MAX) {
        from.destroy();
        return;
      }
      held.push(chunk);
    });
    return () => {
      for (const chunk of held.splice(0)) to.write(chunk);
      heldBytes = 0;
    };
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const flushUp = forward(client, upstream);
    const flushDown = forward(upstream, client);
    const flush = (): void => {
      flushUp();
      flushDown();
    };
    flushers.add(flush);
    const drop = (): void => {
      flushers.delete(flush);
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        stall: () => {
          stalled = true;
        },
        heal: () => {
          stalled = false;
          for (const flush of flushers) flush();
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
