/**
 * Goal: the configuration `governor run` needs is refused before anything starts, naming the
 * key (regression, issue "Hostile conditions": a health API token too short was only logged while
 * the daemon went AGGRESSIVE); the default config path is read when it exists; the sample config
 * (deploy/governor.example.yaml) holds every key with its default; `config check` masks secrets.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as apiOptions from '../../../services/api/options.js';
import { ALERT_SECTION_KEYS } from '../../../services/cli/alerts-layers.js';
import { MASK, maskedConfig, maskUrl } from '../../../services/cli/commands/config-check.js';
import {
  API_KEYS,
  AUTHORITY_KEYS,
  resolveDaemonConfig,
  TOP_LEVEL_KEYS,
} from '../../../services/cli/config.js';
import {
  BEARER_TOKEN_LENGTH_MAX,
  BEARER_TOKEN_LENGTH_MIN,
} from '../../../services/cli/config-layers.js';
import { checkDaemonPaths } from '../../../services/cli/daemon-prerequisites.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';

const SAMPLE = resolve(import.meta.dirname, '..', '..', '..', 'deploy', 'governor.example.yaml');
const NO_DEFAULT = '/nonexistent/governor.yaml';
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'gov-config-'));
  directories.push(directory);
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

describe('regression: a health API token too short was accepted and the daemon went AGGRESSIVE', () => {
  it('is refused while resolving, naming the key it came from', () => {
    const short = file('short.yaml', 'api:\n  bearerToken: tooshort\n');
    expect(
      refusal(() =>
        resolveDaemonConfig({ config: short }, { env: {}, defaultConfigPath: NO_DEFAULT }),
      ),
    ).toMatch(/api\.bearerToken: expected 16 to 1024 token68 characters .*got 8 characters/);
    expect(
      refusal(() =>
        resolveDaemonConfig(
          {},
          { env: { GOVERNOR_API_TOKEN: 'x' }, defaultConfigPath: NO_DEFAULT },
        ),
      ),
    ).toMatch(/^GOV_INVALID_CONFIG: GOVERNOR_API_TOKEN: expected 16 to 1024/);
    expect(
      refusal(() =>
        resolveDaemonConfig(
          {},
          {
            env: { GOVERNOR_API_TOKEN: 'has spaces in it, sixteen+' },
            defaultConfigPath: NO_DEFAULT,
          },
        ),
      ),
    ).toMatch(/GOVERNOR_API_TOKEN: expected .*token68/);
    const good = resolveDaemonConfig(
      {},
      { env: { GOVERNOR_API_TOKEN: 'a'.repeat(16) }, defaultConfigPath: NO_DEFAULT },
    );
    expect(good.api.bearerToken).toBe('a'.repeat(16));
  });

  it('applies the same token rule as the health API itself', () => {
    expect(BEARER_TOKEN_LENGTH_MIN).toBe(apiOptions.BEARER_TOKEN_LENGTH_MIN);
    expect(BEARER_TOKEN_LENGTH_MAX).toBe(apiOptions.BEARER_TOKEN_LENGTH_MAX);
  });

  it('a database directory that does not exist and a socket path too long are refused, naming the key', () => {
    const missing = resolveDaemonConfig(
      { db: '/nonexistent/dir/governor.db' },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    expect(refusal(() => checkDaemonPaths(missing))).toMatch(
      /^GOV_INVALID_CONFIG: db: the directory/,
    );
    const long = resolveDaemonConfig(
      { db: join(tmpdir(), 'governor.db'), socket: `/tmp/${'s'.repeat(120)}.sock` },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    expect(refusal(() => checkDaemonPaths(long))).toMatch(/controlSocket: the control socket path/);
  });
});

describe('the default config path', () => {
  it('is read when no file is named and it exists; a named file wins', () => {
    const fallback = file('governor.yaml', 'desiredMode: OBSERVE_ONLY\n');
    const used = resolveDaemonConfig({}, { env: {}, defaultConfigPath: fallback });
    expect(used.configPath).toBe(fallback);
    expect(used.desiredMode).toBe('OBSERVE_ONLY');
    const named = file('named.yaml', 'logLevel: warn\n');
    const chosen = resolveDaemonConfig({ config: named }, { env: {}, defaultConfigPath: fallback });
    expect(chosen.configPath).toBe(named);
    expect(chosen.desiredMode).toBe('AGGRESSIVE');
    const none = resolveDaemonConfig({}, { env: {}, defaultConfigPath: NO_DEFAULT });
    expect(none.configPath).toBeNull();
  });
});

describe('the sample config, deploy/governor.example.yaml', () => {
  const text = readFileSync(SAMPLE, 'utf8');

  it('resolves to exactly the defaults', () => {
    const sample = resolveDaemonConfig(
      { config: SAMPLE },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    const defaults = resolveDaemonConfig({}, { env: {}, defaultConfigPath: NO_DEFAULT });
    expect({ ...sample, configPath: null }).toEqual(defaults);
  });

  it('sets every threshold to its default and names every other key', () => {
    const parsed = parse(text) as { thresholds: Record<string, number> };
    expect(parsed.thresholds).toEqual({ ...DEFAULT_THRESHOLDS });
    for (const key of [...TOP_LEVEL_KEYS, ...API_KEYS]) {
      expect(text).toMatch(new RegExp(`^\\s*(# )?${key}:`, 'm'));
    }
    for (const key of AUTHORITY_KEYS) expect(text).toMatch(new RegExp(`^#\\s*${key}:`, 'm'));
    for (const [section, keys] of Object.entries(ALERT_SECTION_KEYS)) {
      expect(text).toMatch(new RegExp(`#\\s*(- )?${section}:`));
      for (const key of keys) expect(text).toMatch(new RegExp(`#\\s*(- )?${key}:`));
    }
  });
});

describe('config check masks secrets', () => {
  it('shows no token, header value, Slack path, routing key or URL password', () => {
    const config = resolveDaemonConfig(
      {
        config: file(
          'secrets.yaml',
          `api:
  bearerToken: s3cr3t-token-0123456789
alerts:
  webhooks:
    - url: https://hooks.example.com/governor?key=abc123
      headers: { Authorization: "Bearer hunter2" }
  alertmanager:
    url: http://127.0.0.1:9093
  slack:
    url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
  pagerduty:
    routingKey: R0UTINGKEY
`,
        ),
      },
      { env: {}, defaultConfigPath: NO_DEFAULT },
    );
    const shown = JSON.stringify(maskedConfig(config));
    for (const secret of ['s3cr3t', 'abc123', 'hunter2', 'XXXXSECRET', 'R0UTINGKEY']) {
      expect(shown).not.toContain(secret);
    }
    expect(shown).toContain('hooks.example.com/governor');
    expect(shown).toContain('http://127.0.0.1:9093');
    expect(maskUrl('https://hooks.slack.com/services/T/B/X', true)).toBe(
      `https://hooks.slack.com/${MASK}`,
    );
    expect(maskUrl('https://user:pa55word@am.example.com:9093/')).toBe(
      `https://user:${MASK}@am.example.com:9093/`,
    );
    expect(maskUrl('not a url')).toBe(MASK);
  });
});

describe('the fleet authority in the config file (authority.*), flags over it', () => {
  const resolveWith = (text: string, flags: Record<string, unknown> = {}, env = {}) =>
    resolveDaemonConfig(
      { config: file('fleet.yaml', text), ...flags },
      { env, defaultConfigPath: NO_DEFAULT },
    );
  const FILE = `authority:
  url: postgresql://host_1:pa55@pg.internal:5432/governor
  scopes: [firm/desk-a/strategy-x, firm/desk-b]
  host: host-1
  leaseMs: 1500
  authorityLossMs: 30000
`;

  it('reads every key; without the section there is no authority', () => {
    expect(resolveWith(FILE).authority).toEqual({
      url: 'postgresql://host_1:pa55@pg.internal:5432/governor',
      scopes: ['firm/desk-a/strategy-x', 'firm/desk-b'],
      host: 'host-1',
      leaseMs: 1500,
      authorityLossMs: 30000,
    });
    expect(resolveWith('db: ./x.db\n').authority).toBeNull();
    // Defaults: the PG* variables, the hostname, a 3 s lease, 2 min to AUTHORITY_LOST.
    expect(resolveWith('authority:\n  scopes: [firm]\n').authority).toEqual({
      url: null,
      host: null,
      scopes: ['firm'],
      leaseMs: 3000,
      authorityLossMs: 120000,
    });
    // GOVERNOR_AUTHORITY alone (the operator commands' default) turns nothing on.
    expect(
      resolveWith('db: ./x.db\n', {}, { GOVERNOR_AUTHORITY: 'postgresql://a@b/c' }).authority,
    ).toBeNull();
  });

  it('flags override the file key by key; GOVERNOR_AUTHORITY gives the url unless --authority does', () => {
    const overridden = resolveWith(FILE, {
      authority: 'postgresql://host_9@pg2.internal/governor',
      scope: ['firm/desk-c'],
      fleetHost: 'host-9',
      leaseMs: '900',
    });
    expect(overridden.authority).toEqual({
      url: 'postgresql://host_9@pg2.internal/governor',
      scopes: ['firm/desk-c'],
      host: 'host-9',
      leaseMs: 900,
      authorityLossMs: 30000,
    });
    const fromEnv = resolveWith(FILE, {}, { GOVERNOR_AUTHORITY: 'postgresql://env@pg3/governor' });
    expect(fromEnv.authority?.url).toBe('postgresql://env@pg3/governor');
    // --authority '' means the PG* variables, over the file's url.
    expect(resolveWith(FILE, { authority: '' }).authority?.url).toBeNull();
    // Flags alone turn it on too.
    expect(
      resolveDaemonConfig(
        { scope: ['firm'], authorityLossMs: '5000' },
        { env: {}, defaultConfigPath: NO_DEFAULT },
      ).authority,
    ).toEqual({ url: null, host: null, scopes: ['firm'], leaseMs: 3000, authorityLossMs: 5000 });
  });

  it('refuses a bad value with an error naming the key and where it came from', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'authority:\n  scopes: []\n',
        {},
        /fleet\.yaml: authority\.scopes: expected a list of 1 to 64 scopes/,
      ],
      ['authority:\n  scopes: firm\n', {}, /authority\.scopes: expected a list/],
      [
        'authority:\n  scopes: [firm, "firm//x"]\n',
        {},
        /authority\.scopes\[1\]: expected names of letters/,
      ],
      [
        'authority:\n  scopes: [firm]\n  leaseMs: 100\n',
        {},
        /authority\.leaseMs: expected an integer of ms from 150 to 600000, got 100/,
      ],
      [
        'authority:\n  scopes: [firm]\n  leaseMs: "3000"\n',
        {},
        /authority\.leaseMs: expected an integer/,
      ],
      [
        'authority:\n  scopes: [firm]\n  authorityLossMs: 0\n',
        {},
        /authority\.authorityLossMs: expected an integer of ms from 1/,
      ],
      [
        'authority:\n  scopes: [firm]\n  leaseMs: 5000\n  authorityLossMs: 4000\n',
        {},
        /authority\.authorityLossMs: 4000 is shorter than leaseMs \(5000\)/,
      ],
      [
        'authority:\n  scopes: [firm]\n  url: mysql://x@y/z\n',
        {},
        /authority\.url: expected a postgresql:\/\/USER@HOST/,
      ],
      [
        'authority:\n  scopes: [firm]\n  host: "bad host"\n',
        {},
        /authority\.host: expected a name of letters/,
      ],
      [
        'authority:\n  scopes: [firm]\n  lease: 3000\n',
        {},
        /authority\.lease: unknown key; known: url, host, scopes, leaseMs, authorityLossMs/,
      ],
      ['authority: yes\n', {}, /fleet\.yaml: authority: expected a mapping/],
      [
        'authority:\n  url: postgresql://a@b/c\n',
        {},
        /authority\.scopes: authority\.url is set but no scope/,
      ],
      ['db: ./x.db\n', { leaseMs: '1000' }, /authority\.scopes: --lease-ms is set but no scope/],
      [FILE, { leaseMs: '10' }, /--lease-ms: expected an integer of ms from 150/],
      [FILE, { leaseMs: 'soon' }, /--lease-ms: expected an integer, got "soon"/],
      [FILE, { scope: ['no spaces'] }, /--scope\[0\]: expected names/],
      [FILE, { authority: 'pg.internal' }, /--authority: expected a postgresql:\/\//],
    ];
    for (const [text, flags, expected] of cases) {
      const message = refusal(() => resolveWith(text, flags));
      expect(message, `${text} ${JSON.stringify(flags)}`).toMatch(expected);
    }
    expect(
      refusal(() => resolveWith('authority:\n  scopes: [firm]\n', {}, { GOVERNOR_AUTHORITY: 'x' })),
    ).toMatch(/GOVERNOR_AUTHORITY: expected a postgresql/);
  });

  it('config check shows it with the url password masked', () => {
    const shown = maskedConfig(resolveWith(FILE));
    expect(shown.authority).toEqual({
      url: `postgresql://host_1:${MASK}@pg.internal:5432/governor`,
      scopes: ['firm/desk-a/strategy-x', 'firm/desk-b'],
      host: 'host-1',
      leaseMs: 1500,
      authorityLossMs: 30000,
    });
    expect(JSON.stringify(shown)).not.toContain('pa55');
  });
});
