/**
 * Goal: `governor run` delivers alerts to the sinks of the config's `alerts` section, and
 * `governor alerts` shows each sink's delivery status; an operator restart with no daemon running
 * sends the resolution to those sinks; a bad sink setting is refused at start (exit 2) with an
 * error naming the key, before anything is started. Each test has its own sandbox.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveDaemonConfig } from '../../services/cli/config.js';
import { CliSandbox, E2E_CONFIG_YAML, POLL_ATTEMPTS_MAX, POLL_INTERVAL_MS } from './cli-harness.js';

interface WebhookBody {
  readonly status: string;
  readonly alert: { readonly kind: string; readonly alertId: string; readonly title: string };
}

interface ListedDelivery {
  readonly sink: string;
  readonly operation: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastError: string | null;
}

interface ListedAlert {
  readonly alertId: string;
  readonly title: string;
  readonly deliveries: readonly ListedDelivery[];
}

/** A local receiver: `/ok` answers 200 and keeps the body, `/down` always answers 503. */
class Receiver {
  readonly bodies: WebhookBody[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/ok') {
        this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody);
        response.writeHead(200).end();
      } else {
        response.writeHead(503).end();
      }
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < POLL_ATTEMPTS_MAX; attempt++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`${what}: not seen after ${POLL_ATTEMPTS_MAX} polls`);
}

describe('alert sinks from the config, end to end', () => {
  const receiver = new Receiver();
  let base = '';
  const sandboxes: CliSandbox[] = [];
  /** A sandbox whose config names two webhooks: e2e-ok (answers 200) and e2e-down (503). */
  const sinkSandbox = (): CliSandbox => {
    const created = new CliSandbox(
      `${E2E_CONFIG_YAML}alerts:
  webhooks:
    - name: e2e-ok
      url: ${base}/ok
    - name: e2e-down
      url: ${base}/down
`,
    );
    sandboxes.push(created);
    return created;
  };

  beforeAll(async () => {
    base = await receiver.listen();
  });
  afterEach(async () => {
    for (const created of sandboxes.splice(0)) await created.cleanup();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('an operator shutdown reaches the webhook; alerts shows delivered and a failing sink pending with attempts', async () => {
    const sandbox = sinkSandbox();
    const daemon = sandbox.startDaemon(['--demo']);
    await sandbox.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    expect(daemon.output()).toMatch(/alert sinks: terminal, e2e-ok, e2e-down/);
    const shutdown = await sandbox.run([
      'shutdown',
      '--operator',
      'erin',
      '--reason',
      'webhook drill',
    ]);
    expect(shutdown.code).toBe(0);
    expect(shutdown.stdout).toMatch(/governor is now SHUTDOWN \(confirmed by owner pid \d+ on /);

    const body = await poll('the shutdown alert at the webhook', async () =>
      receiver.bodies.find((b) => b.status === 'firing' && b.alert.kind === 'SHUTDOWN'),
    );
    expect(body.alert.title).toMatch(/shutdown/i);

    const listed = await poll('delivery status of both sinks', async () => {
      const result = await sandbox.run(['alerts', '--json']);
      const alert = (JSON.parse(result.stdout) as ListedAlert[]).find(
        (a) => a.alertId === body.alert.alertId,
      );
      const down = alert?.deliveries.find((d) => d.sink === 'e2e-down');
      return down !== undefined && down.attempts >= 1 ? alert : undefined;
    });
    const ok = listed.deliveries.find((d) => d.sink === 'e2e-ok');
    expect(ok?.status).toBe('delivered');
    expect(ok?.attempts).toBe(1);
    const down = listed.deliveries.find((d) => d.sink === 'e2e-down');
    expect(['pending', 'failed']).toContain(down?.status);
    expect(down?.lastError).toMatch(/HTTP 503/);

    const human = await sandbox.run(['alerts']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/e2e-ok delivered, 1 attempt/);
    expect(human.stdout).toMatch(/e2e-down (pending|failed), \d+ attempts?.*HTTP 503/);
    expect(await sandbox.stopDaemon(daemon)).toBe(0);
  });

  it('regression (item 9): restart with no daemon running wrote no resolve to the outbox; now the command, as the owner for a moment, sends the resolution to the configured sink', async () => {
    const sandbox = sinkSandbox();
    const daemon = sandbox.startDaemon(['--demo']);
    await sandbox.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    const seen = receiver.bodies.length;
    const shutdown = await sandbox.run(['shutdown', '--operator', 'erin', '--reason', 'drill']);
    expect(shutdown.code).toBe(0);
    const status = await sandbox.status();
    const fired = await poll('the shutdown alert at the webhook', async () =>
      receiver.bodies.slice(seen).find((b) => b.status === 'firing' && b.alert.kind === 'SHUTDOWN'),
    );
    expect(status.state).toBe('SHUTDOWN');
    expect(await sandbox.stopDaemon(daemon)).toBe(0);

    const restart = await sandbox.run(['restart', '--operator', 'erin', '--reason', 'drill over']);
    expect(restart.code).toBe(0);
    expect(restart.stdout).toMatch(/no owner running: recorded in the database/);
    const resolved = await poll('the resolution at the webhook', async () =>
      receiver.bodies.find(
        (b) => b.status === 'resolved' && b.alert.alertId === fired.alert.alertId,
      ),
    );
    expect(resolved.alert.kind).toBe('SHUTDOWN');
    const listed = await sandbox.run(['alerts', '--all', '--json']);
    const alert = (JSON.parse(listed.stdout) as ListedAlert[]).find(
      (a) => a.alertId === fired.alert.alertId,
    );
    expect(alert?.deliveries).toContainEqual(
      expect.objectContaining({ sink: 'e2e-ok', operation: 'resolve', status: 'delivered' }),
    );
  });

  it('a bad webhook URL is refused at start with exit 2, naming the key; nothing is started', async () => {
    const bad = new CliSandbox(`${E2E_CONFIG_YAML}alerts:
  webhooks:
    - name: ops
      url: ftp://127.0.0.1/hook
`);
    try {
      const result = await bad.run(['run', '--demo']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/alerts\.webhooks\[0\]\.url/);
      expect(existsSync(bad.dbPath)).toBe(false);
    } finally {
      await bad.cleanup();
    }
  });
});

describe('the alerts section is validated with errors that name the key', () => {
  const resolveWith = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    const sandbox = new CliSandbox(yaml);
    try {
      return resolveDaemonConfig({ config: sandbox.configPath }, { env });
    } finally {
      void sandbox.cleanup();
    }
  };
  const refusal = (yaml: string, env: NodeJS.ProcessEnv = {}): string => {
    try {
      resolveWith(yaml, env);
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('refuses unknown keys, wrong types, bad values and duplicate names', () => {
    expect(refusal('alerts:\n  email: {}\n')).toMatch(/alerts\.email: unknown key/);
    expect(refusal('alerts:\n  webhooks:\n    - uri: http://x\n')).toMatch(
      /alerts\.webhooks\[0\]\.uri: unknown key/,
    );
    expect(refusal('alerts:\n  webhooks:\n    - url: http://x\n      timeoutMs: soon\n')).toMatch(
      /alerts\.webhooks\[0\]\.timeoutMs: expected an integer/,
    );
    expect(refusal('alerts:\n  webhooks:\n    - url: http://x\n      timeoutMs: 0\n')).toMatch(
      /alerts\.webhooks\[0\]\.timeoutMs: .*1 to 120000/,
    );
    expect(refusal('alerts:\n  webhooks:\n    - url: http://a\n    - url: http://b\n')).toMatch(
      /alerts\.webhooks\[1\]\.name: the sink name webhook is taken/,
    );
    expect(refusal('alerts:\n  webhooks:\n    - name: terminal\n      url: http://a\n')).toMatch(
      /alerts\.webhooks\[0\]\.name/,
    );
    expect(refusal('alerts:\n  pagerduty: {}\n')).toMatch(/alerts\.pagerduty\.routingKey/);
    expect(refusal('alerts:\n  slack:\n    url: not a url\n')).toMatch(/alerts\.slack\.url/);
    expect(
      refusal(
        'alerts:\n  alertmanager:\n    url: http://127.0.0.1:9093\n    watchdog:\n      intervalMs: 5\n',
      ),
    ).toMatch(/alerts\.alertmanager\.watchdog\.intervalMs/);
  });

  it('takes secrets from the environment and accepts a complete section', () => {
    const config = resolveWith(
      `alerts:
  webhooks:
    - name: ops
      url: https://hooks.example.com/governor
      headers: { Authorization: Bearer abc }
  alertmanager:
    url: http://127.0.0.1:9093
    watchdog: { intervalMs: 60000 }
  pagerduty: { source: trading-host-1 }
`,
      {
        GOVERNOR_PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY',
        GOVERNOR_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X',
      },
    );
    expect(config.alerts.webhooks.map((w) => w.name)).toEqual(['ops']);
    expect(config.alerts.pagerduty).toEqual({ source: 'trading-host-1', routingKey: 'R0UTINGKEY' });
    expect(config.alerts.slack?.url).toBe('https://hooks.slack.com/services/T/B/X');
    expect(config.alerts.alertmanager?.watchdog).toEqual({ intervalMs: 60000 });
  });
});
