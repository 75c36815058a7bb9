/** The real exporter process over HTTP: exposition lint, formats, landing page, health, 404, shutdown. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from './helpers/exporter.js';

const run = promisify(execFile);

/** promtool check metrics reads the exposition on stdin; returns its complaints ('' when clean). */
export async function promtoolLint(body: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => resolve(err ? `${stdout}${stderr}` || String(err) : `${stdout}${stderr}`));
    child.stdin?.end(body);
  });
}

let exporter: RunningExporter;
beforeAll(async () => {
  exporter = await startExporter();
});
afterAll(async () => {
  await exporter?.stop();
});

describe('the exporter process', () => {
  it('serves /metrics that promtool check metrics accepts without a single complaint', async () => {
    const body = await exporter.scrape();
    expect(await promtoolLint(body)).toBe('');
    expect(body).toMatch(/^silentwatch_build_info\{version="\d+\.\d+\.\d+",node_version="[^"]+"\} 1$/m);
    expect(body).toMatch(/^silentwatch_process_resident_memory_bytes \d+/m);
    expect(body).toMatch(/^silentwatch_collector_success\{collector="host"\} 1$/m);
  });

  it('every metric name is silentwatch_… and has HELP text', async () => {
    const m = await exporter.metrics();
    for (const s of m.samples) expect(s.name).toMatch(/^silentwatch_/);
    for (const fam of m.types.keys()) expect(m.help.get(fam)?.length ?? 0).toBeGreaterThan(10);
  });

  it('answers OpenMetrics when the scraper asks for it', async () => {
    const res = await fetch(`${exporter.url}/metrics`, { headers: { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
    expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    const body = await res.text();
    expect(body.endsWith('# EOF\n')).toBe(true);
    // counters: family without _total in TYPE, samples with it
    expect(body).toMatch(/^# TYPE silentwatch_host_oom_kills counter$/m);
    expect(body).toMatch(/^silentwatch_host_oom_kills_total \d+$/m);
    expect(body).not.toMatch(/_total_total/);
  });

  it('plain scrapers get text 0.0.4', async () => {
    const res = await fetch(`${exporter.url}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('landing page lists collectors with their status; /healthz; unknown paths 404', async () => {
    const page = await (await fetch(exporter.url)).text();
    expect(page).toContain('<b>host</b>');
    expect(page).toMatch(/class="ok">ok|not scraped yet/);
    expect(await (await fetch(`${exporter.url}/healthz`)).text()).toBe('ok\n');
    const missing = await fetch(`${exporter.url}/../etc/passwd`);
    expect(missing.status).toBe(404);
    expect((await fetch(`${exporter.url}/metrics/`)).status).toBe(200);
    expect((await fetch(`${exporter.url}/nope`)).status).toBe(404);
  });

  it('a scrape of the idle exporter is cheap', async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await exporter.scrape();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    // Not a timing assertion on the machine's speed: a sanity bound two orders above the typical value.
    expect(times[10]).toBeLessThan(1000);
  });
});

describe('shutdown', () => {
  // SIGTERM while a scrape is in flight: test/reliability/exporter-faults.test.ts ('exporter: SIGTERM during a scrape').
  it('runs from the npm bin entry too', async () => {
    const { stdout } = await run(process.execPath, ['dist/cli.js', '--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
