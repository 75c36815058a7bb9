/**
 * Configuration: precedence of defaults, YAML, env and flags; every error names the key and what was
 * expected; and the real CLI exits 2 on each error case.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ALL_COLLECTORS } from '../src/collectors/index.js';
import { defineCollector } from '../src/collectors/types.js';
import { ConfigError, DEFAULT_PORT, EarlyExit, loadConfig, collectorConfig } from '../src/config.js';
import { duration, stringList } from '../src/lib/config-values.js';
import { removeDir, tempDir } from './helpers/daemon.js';
import { CLI, cleanEnv } from './helpers/exporter.js';

const run = promisify(execFile);
const dir = tempDir('config');
afterAll(() => removeDir(dir));

const demo = defineCollector({
  name: 'demo',
  description: 'test collector',
  defaultEnabled: 'auto',
  options: z.object({
    targets: stringList().prefault([]).describe('targets'),
    interval: duration().prefault('30s').describe('interval'),
  }),
  metrics: [],
  create: () => ({ collect: async () => undefined }),
});
const collectors = [...ALL_COLLECTORS, demo];

function yamlFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function load(argv: string[] = [], env: Record<string, string> = {}) {
  return loadConfig({ argv, env, collectors });
}

function configError(argv: string[], env: Record<string, string> = {}): string {
  try {
    load(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('zero config gives the embedded defaults', () => {
    const c = load();
    expect(c.web.listen_address).toEqual({ host: '', port: DEFAULT_PORT });
    expect(c.web.telemetry_path).toBe('/metrics');
    expect(c.path).toEqual({ procfs: '/proc', sysfs: '/sys', rootfs: '/' });
    expect(c.collectors.timeout).toBe(5);
    expect(collectorConfig(c, 'host')).toMatchObject({ enabled: true, timeout: 5 });
    expect(collectorConfig(c, 'demo')).toMatchObject({ enabled: 'auto', targets: [], interval: 30 });
  });

  it('precedence is flag > env > file > default', () => {
    const f = yamlFile('prec.yml', 'web:\n  listen_address: ":1111"\nlog:\n  level: warn\ncollectors:\n  timeout: 2s\n  demo:\n    targets: [a, b]\n');
    const fileOnly = load(['--config', f]);
    expect(fileOnly.web.listen_address.port).toBe(1111);
    expect(fileOnly.log.level).toBe('warn');
    expect(collectorConfig(fileOnly, 'demo').targets).toEqual(['a', 'b']);
    const env = load(['--config', f], { SILENTWATCH_WEB_LISTEN_ADDRESS: ':2222', SILENTWATCH_COLLECTOR_DEMO_TARGETS: 'x,y' });
    expect(env.web.listen_address.port).toBe(2222);
    expect(collectorConfig(env, 'demo').targets).toEqual(['x', 'y']);
    const flag = load(['--config', f, '--web.listen-address=:3333', '--collector.demo.targets', 'z'], { SILENTWATCH_WEB_LISTEN_ADDRESS: ':2222' });
    expect(flag.web.listen_address.port).toBe(3333);
    expect(collectorConfig(flag, 'demo').targets).toEqual(['z']);
    expect(flag.log.level).toBe('warn');
  });

  it('collector switches: --collector.x, --no-collector.x, env true/false/auto, per-collector time-out', () => {
    expect(collectorConfig(load(['--no-collector.host']), 'host').enabled).toBe(false);
    expect(collectorConfig(load(['--collector.demo']), 'demo').enabled).toBe(true);
    expect(collectorConfig(load([], { SILENTWATCH_COLLECTOR_DEMO: 'false' }), 'demo').enabled).toBe(false);
    expect(collectorConfig(load([], { SILENTWATCH_COLLECTOR_HOST: 'auto' }), 'host').enabled).toBe('auto');
    expect(collectorConfig(load(['--collector.host.timeout=750ms']), 'host').timeout).toBe(0.75);
    expect(collectorConfig(load(['--collector.timeout=2s']), 'host').timeout).toBe(2);
  });

  it('env SILENTWATCH_CONFIG names the file', () => {
    const f = yamlFile('envfile.yml', 'log: {level: debug}\n');
    expect(load([], { SILENTWATCH_CONFIG: f }).log.level).toBe('debug');
  });

  it('--web.config.file, the flag of every Prometheus exporter, and its older spelling --web.config-file', () => {
    expect(load(['--web.config.file=/etc/silentwatch/web.yml']).web.config_file).toBe('/etc/silentwatch/web.yml');
    expect(load(['--web.config-file', '/etc/web.yml']).web.config_file).toBe('/etc/web.yml');
    expect(load([], { SILENTWATCH_WEB_CONFIG_FILE: '/e/web.yml' }).web.config_file).toBe('/e/web.yml');
    try {
      load(['--help']);
    } catch (e) {
      expect((e as EarlyExit).output).toMatch(/--web\.config\.file <value>/);
      expect((e as EarlyExit).output).not.toMatch(/--web\.config-file <value>/);
    }
    expect(() => load(['--web.config.file'])).toThrow(ConfigError);
  });

  it('--help and --version exit early with their text', () => {
    for (const [flag, pattern] of [['--help', /--web\.listen-address <value>[\s\S]*SILENTWATCH_WEB_LISTEN_ADDRESS[\s\S]*--no-collector\.host/], ['--version', /^\d+\.\d+\.\d+/]] as const) {
      try {
        load([flag]);
        throw new Error('no early exit');
      } catch (e) {
        expect(e).toBeInstanceOf(EarlyExit);
        expect((e as EarlyExit).output).toMatch(pattern);
      }
    }
  });
});

describe('collector option names', () => {
  it('a collector declaring a reserved option (timeout, enabled) is refused loudly, not silently merged', () => {
    const bad = defineCollector({ name: 'bad', description: 'bad', defaultEnabled: true, metrics: [], options: z.object({ timeout: duration().prefault('3s') }), create: () => ({ collect: async () => undefined }) });
    expect(() => loadConfig({ argv: [], env: {}, collectors: [bad] })).toThrow(/collector bad: option name\(s\) timeout are reserved/);
  });
});

describe('config errors name the key and what was expected', () => {
  it.each([
    [['--web.listen-address=nonsense'], {}, /web\.listen_address \(from flag --web\.listen-address\): expected host:port or :port/],
    [['--web.listen-address=:70000'], {}, /web\.listen_address .*port from 0 to 65535.*70000/],
    [[], { SILENTWATCH_WEB_LISTEN_ADDRESS: ':-5' }, /web\.listen_address \(from env SILENTWATCH_WEB_LISTEN_ADDRESS\)/],
    [['--log.level=loud'], {}, /log\.level .*expected one of debug, info, warn, error/],
    [['--collector.timeout=soon'], {}, /collectors\.timeout .*expected a positive duration/],
    [[], { SILENTWATCH_COLLECTOR_HOST: 'maybe' }, /collectors\.host\.enabled \(from env SILENTWATCH_COLLECTOR_HOST\): expected true, false or auto/],
    [[], { SILENTWATCH_WEB_LISTEN_ADRESS: ':1' }, /unknown environment variable SILENTWATCH_WEB_LISTEN_ADRESS/],
    [['--web.listen-adress=:1'], {}, /unknown option '--web\.listen-adress/],
    [['--config', '/nonexistent/silentwatch.yml'], {}, /cannot read config file \/nonexistent\/silentwatch\.yml: ENOENT/],
    [['--docker.host=ftp://x'], {}, /docker\.host .*expected unix:\/\/\/path\/to\/docker\.sock/],
  ])('%j %j', (argv, env, pattern) => {
    expect(configError(argv as string[], env as Record<string, string>)).toMatch(pattern);
  });

  it('unknown YAML keys are named with their path and the file', () => {
    const f = yamlFile('unknown.yml', 'web:\n  listen_adress: ":1"\ncollectors:\n  nosuch: {}\n');
    const msg = configError(['--config', f]);
    expect(msg).toContain('unknown key web.listen_adress');
    expect(msg).toContain('unknown key collectors.nosuch');
    expect(msg).toContain(f);
  });

  it('wrong YAML types name the key', () => {
    const f = yamlFile('types.yml', 'log:\n  level: 3\npath:\n  procfs: []\n');
    const msg = configError(['--config', f]);
    expect(msg).toMatch(/log\.level \(from file .*types\.yml\)/);
    expect(msg).toMatch(/path\.procfs .*expected string/);
  });

  it('invalid YAML and a non-mapping document are reported', () => {
    expect(configError(['--config', yamlFile('bad.yml', 'web: [unclosed\n')])).toMatch(/is not valid YAML/);
    expect(configError(['--config', yamlFile('list.yml', '- a\n- b\n')])).toMatch(/expected a mapping of sections/);
  });
});

describe('the real CLI', () => {
  async function cli(args: string[], env: Record<string, string> = {}) {
    try {
      const r = await run(process.execPath, [CLI, ...args], { env: cleanEnv(env), timeout: 20_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it.each([
    [['--web.listen-address=:99999'], {}, 'web.listen_address'],
    [['--log.level=loud'], {}, 'log.level'],
    [['--no-such-flag'], {}, '--no-such-flag'],
    [[], { SILENTWATCH_LOG_LEVL: 'info' }, 'SILENTWATCH_LOG_LEVL'],
    [['--config=/nonexistent.yml'], {}, '/nonexistent.yml'],
  ])('exits 2 naming the key: %j %j', async (args, env, key) => {
    const r = await cli(args as string[], env as Record<string, string>);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(key as string);
    expect(r.stderr).toMatch(/^silentwatch: config:/);
  });

  it('--version and --help exit 0', async () => {
    const v = await cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--path.procfs');
  });

  it('a port already in use exits 1 with a log line', async () => {
    const { createServer } = await import('node:net');
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const r = await cli([`--web.listen-address=127.0.0.1:${port}`]);
    srv.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot listen/);
  });
});
