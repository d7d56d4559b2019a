/**
 * The local Kraken exchange as a process of its own: prints `{"event":"listening",…}` with its URL
 * and first key pair, then reads one JSON command a line on stdin and answers each with one JSON
 * line; prints `{"event":"countdown-fired",…}` when the countdown cancels. It exits when stdin
 * closes. Commands: {"op":"place","count":N,"reduceOnly":bool,"pair":id}, {"op":"count"},
 * {"op":"fault","fault":{…}|null,"endpoints":[…]}, {"op":"add-key"}.
 */
import { createInterface } from 'node:readline';
import { type ExchangeFault, LocalKrakenExchange, preciseNowMs } from './kraken-exchange.js';

const PLACE_COUNT_MAX = 10_000;

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...line, atMs: preciseNowMs() })}\n`);
}

const port = Number(process.argv[2] ?? 0);
const exchange = await LocalKrakenExchange.start({
  port,
  onCountdownFired: (firing) => print({ event: 'countdown-fired', cancelled: firing.cancelled }),
});
print({ event: 'listening', url: exchange.url, ...exchange.credentials });

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let command: Record<string, unknown>;
  try {
    command = JSON.parse(line) as Record<string, unknown>;
  } catch {
    print({ event: 'error', error: 'not JSON' });
    return;
  }
  try {
    switch (command.op) {
      case 'place': {
        const count = Math.min(Number(command.count ?? 1), PLACE_COUNT_MAX);
        const txids = exchange.placeRestingOrders(count, {
          reduceOnly: command.reduceOnly === true,
          ...(typeof command.pair === 'string' ? { pair: command.pair } : {}),
        });
        print({ event: 'placed', txids, open: exchange.countOpenOrders() });
        break;
      }
      case 'count':
        print({ event: 'count', open: exchange.countOpenOrders() });
        break;
      case 'fault':
        exchange.setFault(
          (command.fault ?? undefined) as ExchangeFault | undefined,
          Array.isArray(command.endpoints) ? { endpoints: command.endpoints.map(String) } : {},
        );
        print({ event: 'fault-set' });
        break;
      case 'add-key':
        print({ event: 'key', ...exchange.addApiKey() });
        break;
      default:
        print({ event: 'error', error: `unknown op ${String(command.op)}` });
    }
  } catch (error) {
    print({ event: 'error', error: error instanceof Error ? error.message : String(error) });
  }
});
lines.on('close', () => {
  void exchange.close().then(() => process.exit(0));
});
