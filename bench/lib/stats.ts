/** Small helpers shared by the benchmarks: timing, percentiles, ratio tables written to bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export interface Timing {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly n: number;
}

/** Runs fn `n` times after `warmup` runs; milliseconds. */
export async function time(fn: () => Promise<unknown> | unknown, n: number, warmup = Math.min(5, n)): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length, n };
}

export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly anchor: string;
  readonly ratio: string;
  readonly sizes: string;
}

export const fmtMs = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);
export const ratio = (value: number, anchor: number): string => `${(value / anchor).toFixed(2)}×`;

/** Prints the table and writes it to bench/results/<name>.md for bench/RESULTS.md. */
export function report(name: string, title: string, rows: readonly Row[], notes: readonly string[] = []): void {
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `### ${title}`,
    '',
    `Measured ${date} on this machine (${process.arch}, Node ${process.versions.node}). Ratios are against the anchor measured in the same run.`,
    '',
    '| figure | value | anchor | ratio | sizes |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.anchor} | ${r.ratio} | ${r.sizes} |`),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.md`, text);
}
