/** The real exporter (dist/cli.js) as a child process for benchmarks, and what /proc says about it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
/** The node flags of `npm start`, read from package.json so that every bench follows them. */
export const START_FLAGS: readonly string[] = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(' ')
  .filter((a) => a.startsWith('--'));

/**
 * Starts the exporter on a free port with the production start flags (or `flags`, to compare V8 settings);
 * resolves once it listens.
 */
export async function spawnExporter(args: readonly string[] = [], flags: readonly string[] = START_FLAGS): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...flags, CLI, '--web.listen-address=127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error(`exporter exited: ${buf}`)));
  });
  return { child, port };
}

const status = (pid: number, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

export function rssOf(pid: number): number {
  return status(pid, 'VmRSS');
}

/** Private resident memory (anonymous and private file pages: smaps_rollup Private_Clean + Private_Dirty), in bytes. */
export function privateOf(pid: number): number {
  const r = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(r)?.[1] ?? 0);
  return (kb('Private_Clean') + kb('Private_Dirty')) * 1024;
}

/** Peak resident set size since start, in bytes. */
export const peakRssOf = (pid: number): number => status(pid, 'VmHWM');

/** user + system CPU seconds of a process (USER_HZ 100). */
export function cpuSecondsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}
