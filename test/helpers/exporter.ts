/** Runs the real exporter (node dist/cli.js, built once by the global setup) as a child process. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDaemon, waitFor, type Daemon, type RunAs } from './daemon.js';
import { parseExposition, type ParsedExposition } from './metrics-text.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface RunningExporter {
  readonly port: number;
  readonly url: string;
  readonly daemon: Daemon;
  /** GET /metrics; throws unless 200. */
  scrape(headers?: Record<string, string>): Promise<string>;
  metrics(): Promise<ParsedExposition>;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/** Env without SILENTWATCH_* from the test runner's own environment, so tests start from embedded defaults. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SILENTWATCH_')) env[k] = v;
  return { ...env, ...extra };
}

/** One run of the CLI to its end (`doctor`, a bad config): exit code and output, a non-zero exit included. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [CLI, ...args], { env: cleanEnv(env), timeout: 60_000, maxBuffer: 8 * 1024 * 1024 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: unknown; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

/** `runAs`: credentials for the exporter process (e.g. `unprivileged()`, so that chmod 000 applies to it). */
export async function startExporter(args: readonly string[] = [], env: Record<string, string> = {}, runAs: RunAs = {}): Promise<RunningExporter> {
  const daemon = startDaemon(process.execPath, [CLI, '--web.listen-address=127.0.0.1:0', ...args], { env: cleanEnv(env), cwd: REPO_ROOT, ...runAs });
  const logs = (): Array<Record<string, unknown>> =>
    daemon
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  // -1: exited before listening (a config error), reported at once rather than after the time-out
  const port = await waitFor(() => (daemon.exited() ? -1 : (logs().find((l) => l.msg === 'listening')?.port as number | undefined)), 'exporter to listen', 20_000).catch(
    async (e: unknown) => {
      await daemon.stop();
      throw e;
    },
  );
  if (port === -1) throw new Error(`exporter exited: ${daemon.output()}`);
  const url = `http://127.0.0.1:${port}`;
  const scrape = async (headers: Record<string, string> = {}): Promise<string> => {
    const res = await fetch(`${url}/metrics`, { headers });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${body}`);
    return body;
  };
  return {
    port,
    url,
    daemon,
    scrape,
    metrics: async () => parseExposition(await scrape()),
    logs,
    stop: () => daemon.stop(),
  };
}
