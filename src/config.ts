/**
 * Configuration: embedded defaults < optional YAML file (--config) < SILENTWATCH_* env vars < flags,
 * validated by one zod schema made of the global sections plus every collector's own options.
 * Every option has exactly one flag and one env name, derived from its key path:
 *   web.listen_address          --web.listen-address          SILENTWATCH_WEB_LISTEN_ADDRESS
 *   collectors.queues.enabled   --[no-]collector.queues        SILENTWATCH_COLLECTOR_QUEUES
 *   collectors.queues.redis_url --collector.queues.redis-url   SILENTWATCH_COLLECTOR_QUEUES_REDIS_URL
 * A bad value anywhere is a ConfigError naming the key, where the value came from and what was expected.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AnyCollector, HostPaths } from './collectors/types.js';
import { errorMessage } from './lib/async.js';
import { duration, enablement, listenAddress, type Enablement, type ListenAddress } from './lib/config-values.js';
import { issueLines } from './lib/zod-issues.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { loadThresholdsFile } from './thresholds/index.js';
import { VERSION } from './version.js';

export const DEFAULT_PORT = 10290;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** --help or --version was printed: exit 0 without starting. */
export class EarlyExit extends Error {
  constructor(readonly output: string) {
    super('early exit');
  }
}

const globalSections = {
  web: {
    listen_address: listenAddress()
      .prefault(`:${DEFAULT_PORT}`)
      .describe(`Address to listen on, host:port or :port (default :${DEFAULT_PORT}, outside the fully allocated 9100-9999 exporter range).`),
    telemetry_path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, 'expected a path starting with /')
      .default('/metrics')
      .describe('Path under which metrics are served.'),
    config_file: z
      .string()
      .min(1)
      .optional()
      .describe("Web config file in Prometheus exporter-toolkit format (tls_server_config, basic_auth_users with bcrypt hashes, http_server_config.headers): the same file and flag as node_exporter's --web.config.file (--web.config-file is accepted too)."),
  },
  log: {
    level: z.enum(LOG_LEVELS).default('info').describe(`Log level: ${LOG_LEVELS.join(', ')}.`),
  },
  path: {
    procfs: z.string().min(1).default('/proc').describe('procfs mount point (e.g. /host/proc in a container).'),
    sysfs: z.string().min(1).default('/sys').describe('sysfs mount point (e.g. /host/sys in a container).'),
    rootfs: z.string().min(1).default('/').describe('Host root filesystem mount point (e.g. /host/root in a container).'),
  },
  docker: {
    host: z
      .string()
      .regex(/^(unix:\/\/\/|tcp:\/\/|https?:\/\/).+/, 'expected unix:///path/to/docker.sock or tcp://host:port')
      .default(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock')
      .describe('Docker Engine API endpoint (read-only use). Defaults to $DOCKER_HOST or the local socket.'),
    timeout: duration().prefault('3s').describe('Time-out of one Docker API request.'),
  },
  thresholds: {
    file: z
      .string()
      .min(1)
      .optional()
      .describe('YAML file of alert thresholds (the keys of docs/alerts.md) that you render your alert rules with: `silentwatch doctor` then compares with the same values. Default: the shipped thresholds.'),
  },
} as const;

const collectorsGlobal = {
  timeout: duration().prefault('5s').describe("Default per-collector time-out, well under Prometheus' 10 s scrape time-out."),
};

export interface CollectorConfig {
  enabled: Enablement;
  timeout?: number;
  [option: string]: unknown;
}

export interface Config {
  web: { listen_address: ListenAddress; telemetry_path: string; config_file?: string };
  log: { level: LogLevel };
  path: HostPaths;
  docker: { host: string; timeout: number };
  thresholds: { file?: string };
  collectors: { timeout: number } & Record<string, CollectorConfig | number>;
  /** The YAML file read, if any. */
  configFile?: string;
}

/** One configurable value with its three spellings. */
export interface ConfigKey {
  readonly path: readonly string[];
  readonly flag: string;
  readonly env: string;
  readonly schema: z.ZodType;
  readonly description: string;
  /** Collector enable switches get --x / --no-x instead of --x <value>. */
  readonly isSwitch: boolean;
  /** Other spellings of the flag, accepted but not shown in --help. */
  readonly aliases?: readonly string[];
}

/** Flags spelled as in every Prometheus exporter (exporter-toolkit's `--web.config.file`); our rule's spelling stays an alias. */
const FLAG_SPELLINGS: Readonly<Record<string, string>> = { 'web.config_file': '--web.config.file' };

function flagFor(path: readonly string[]): string {
  const [head, ...rest] = path;
  const segs = [head === 'collectors' ? 'collector' : (head as string), ...rest];
  if (segs.at(-1) === 'enabled' && head === 'collectors') segs.pop();
  return '--' + segs.map((s) => s.replace(/_/g, '-')).join('.');
}

function envFor(path: readonly string[]): string {
  const segs = [...path];
  if (segs[0] === 'collectors') segs[0] = 'collector';
  if (path[0] === 'collectors' && segs.at(-1) === 'enabled') segs.pop();
  return 'SILENTWATCH_' + segs.map((s) => s.toUpperCase()).join('_');
}

function key(path: string[], schema: z.ZodType, isSwitch = false): ConfigKey {
  const ours = flagFor(path);
  const flag = FLAG_SPELLINGS[path.join('.')] ?? ours;
  return { path, flag, env: envFor(path), schema, description: schema.description ?? '', isSwitch, ...(flag !== ours ? { aliases: [ours] } : {}) };
}

/** Keys every collector gets from the runner; a collector option of the same name would silently replace them. */
const RESERVED_COLLECTOR_OPTIONS = ['enabled', 'timeout'] as const;

function collectorShape(c: AnyCollector): Record<string, z.ZodType> {
  const clash = RESERVED_COLLECTOR_OPTIONS.filter((k) => Object.hasOwn(c.options.shape, k));
  if (clash.length > 0) throw new Error(`collector ${c.name}: option name(s) ${clash.join(', ')} are reserved for the runner; rename them`);
  return {
    enabled: enablement()
      .prefault(String(c.defaultEnabled))
      .describe(`Enable the ${c.name} collector: true, false or auto (default ${String(c.defaultEnabled)}). ${c.description}`),
    timeout: duration().optional().describe(`Time-out of the ${c.name} collector (default: collectors.timeout).`),
    ...(c.options.shape as Record<string, z.ZodType>),
  };
}

/** Every configurable key, in help order. */
export function configKeys(collectors: readonly AnyCollector[]): ConfigKey[] {
  const keys: ConfigKey[] = [];
  for (const [section, shape] of Object.entries(globalSections)) {
    for (const [k, schema] of Object.entries(shape)) keys.push(key([section, k], schema as z.ZodType));
  }
  for (const [k, schema] of Object.entries(collectorsGlobal)) keys.push(key(['collectors', k], schema));
  for (const c of collectors) {
    for (const [k, schema] of Object.entries(collectorShape(c))) keys.push(key(['collectors', c.name, k], schema, k === 'enabled'));
  }
  return keys;
}

function configSchema(collectors: readonly AnyCollector[]): z.ZodType {
  const sections: Record<string, z.ZodType> = {};
  for (const [section, shape] of Object.entries(globalSections)) sections[section] = z.object(shape).strict().prefault({});
  const perCollector: Record<string, z.ZodType> = { ...collectorsGlobal };
  for (const c of collectors) perCollector[c.name] = z.object(collectorShape(c)).strict().prefault({});
  sections.collectors = z.object(perCollector).strict().prefault({});
  return z.object(sections).strict();
}

type Raw = Record<string, unknown>;

function setPath(obj: Raw, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as Raw;
  }
  cur[path.at(-1) as string] = value;
}

function readYaml(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`config: cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config: ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config: ${file}: expected a mapping of sections (web, log, path, docker, thresholds, collectors) at the top level`);
  return doc as Raw;
}

export interface LoadOptions {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly collectors: readonly AnyCollector[];
}

/** Builds the commander program for flags and --help. */
function buildProgram(keys: readonly ConfigKey[]): { program: Command; byAttr: Map<string, ConfigKey> } {
  const program = new Command('silentwatch')
    .description('Prometheus exporter for the silent failures of self-hosted ML stacks.')
    .version(VERSION, '--version', 'Print the version and exit.')
    .helpOption('-h, --help', 'Show this help and exit.')
    .option('--config <file>', 'YAML configuration file (env SILENTWATCH_CONFIG).')
    .allowExcessArguments(false)
    .exitOverride();
  const byAttr = new Map<string, ConfigKey>();
  for (const k of keys) {
    if (k.isSwitch) {
      const on = new Option(k.flag, `${k.description} (env ${k.env})`);
      const off = new Option(k.flag.replace(/^--/, '--no-'), `Disable the ${k.path[1]} collector.`);
      program.addOption(on).addOption(off);
      byAttr.set(on.attributeName(), k);
    } else {
      const o = new Option(`${k.flag} <value>`, `${k.description} (env ${k.env})`);
      program.addOption(o);
      byAttr.set(o.attributeName(), k);
      for (const alias of k.aliases ?? []) {
        const a = new Option(`${alias} <value>`).hideHelp();
        program.addOption(a);
        byAttr.set(a.attributeName(), k);
      }
    }
  }
  return { program, byAttr };
}

export function loadConfig(opts: LoadOptions): Config {
  const keys = configKeys(opts.collectors);
  const { program, byAttr } = buildProgram(keys);
  let out = '';
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  try {
    program.parse(opts.argv as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') throw new EarlyExit(out);
      throw new ConfigError(`config: ${e.message.replace(/^error: /, '')} (see --help)`);
    }
    throw e;
  }

  const sources = new Map<string, string>();
  const flags = program.opts<Record<string, unknown>>();
  const configFile = (flags.config as string | undefined) ?? opts.env.SILENTWATCH_CONFIG;
  const raw: Raw = configFile ? readYaml(configFile) : {};
  if (configFile) sources.set('', `file ${configFile}`);

  const byEnv = new Map(keys.map((k) => [k.env, k]));
  for (const [name, value] of Object.entries(opts.env)) {
    if (!name.startsWith('SILENTWATCH_') || value === undefined || name === 'SILENTWATCH_CONFIG') continue;
    const k = byEnv.get(name);
    if (!k) throw new ConfigError(`config: unknown environment variable ${name} (see --help for the SILENTWATCH_* variables)`);
    setPath(raw, k.path, value);
    sources.set(k.path.join('.'), `env ${name}`);
  }
  for (const [attr, value] of Object.entries(flags)) {
    const k = byAttr.get(attr);
    if (!k || value === undefined) continue;
    setPath(raw, k.path, value);
    sources.set(k.path.join('.'), `flag ${k.isSwitch && value === false ? k.flag.replace(/^--/, '--no-') : k.flag}`);
  }

  const parsed = configSchema(opts.collectors).safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, sources, configFile));
  const thresholdsFile = (parsed.data as Pick<Config, 'thresholds'>).thresholds.file;
  try {
    if (thresholdsFile !== undefined) loadThresholdsFile(thresholdsFile);
  } catch (e) {
    throw new ConfigError(`config: thresholds.file (from ${sources.get('thresholds.file') ?? `file ${configFile}`}): ${errorMessage(e)}`);
  }
  return { ...(parsed.data as Omit<Config, 'configFile'>), ...(configFile ? { configFile } : {}) };
}

function formatIssues(err: z.ZodError, sources: ReadonlyMap<string, string>, file: string | undefined): string {
  const lines = issueLines(err, (name) => sources.get(name) ?? (file ? `file ${file}` : 'default'), file);
  return `config: invalid configuration:\n  ${lines.join('\n  ')}`;
}

/** The options of one collector, with its effective time-out. */
export function collectorConfig(config: Config, name: string): CollectorConfig & { timeout: number } {
  const c = config.collectors[name] as CollectorConfig | undefined;
  if (!c || typeof c !== 'object') throw new Error(`no configuration for collector ${name}`);
  return { ...c, timeout: c.timeout ?? config.collectors.timeout };
}
