/**
 * Fault matrix, HTTP dependencies: llama-swap (llamaswap collector) and HTTP probes (probes collector).
 * Each case puts test/helpers/http-faults.ts's proxy between the exporter and a real stand-in (the
 * llama-swap stand-in, an Immich ML backend) and makes it fail one way; all cases run concurrently.
 * A server or target that does not answer is data, not a collector failure: llamaswap reports it as
 * silentwatch_llamaswap_up 0, probes as silentwatch_probe_success 0, and both stay successful; a llama-swap
 * that answers /health but garbles the rest makes the llamaswap collector report success 0.
 * Case names are the rows of docs/reliability.md.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startExporter, type RunningExporter } from '../helpers/exporter.js';
import { describeReport, runFault } from '../helpers/faults.js';
import { FaultyHttpProxy, type HttpFault } from '../helpers/http-faults.js';
import { immichMl, type Backend } from '../helpers/probes.js';
import { LlamaSwapStandIn } from '../helpers/llamaswap.js';
import type { ParsedExposition } from '../helpers/metrics-text.js';

const TIMEOUT_MS = 1000;
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

const FAULTS: Array<[name: string, fault: HttpFault]> = [
  ['connection refused', 'refuse'],
  ['hangs', 'hang'],
  ['slow body', 'slow-body'],
  ['stream cut mid-line', 'cut'],
  ['10 MB garbage body', 'garbage'],
];

async function exporter(args: string[]): Promise<RunningExporter> {
  const e = await startExporter(['--collector.timeout=1s', '--no-collector.nvidia', '--no-collector.containers', '--no-collector.queues', ...args]);
  closers.push(() => e.stop());
  return e;
}

describe.concurrent('fault matrix: llama-swap (llamaswap)', { timeout: 150_000 }, () => {
  for (const [name, fault] of FAULTS) {
    it(`llama-swap: ${name}`, async () => {
      const s = await LlamaSwapStandIn.start({ mode: 'v250', models: ['qwen3-8b'] });
      closers.push(() => s.close());
      const proxy = await FaultyHttpProxy.start(s.url);
      closers.push(() => proxy.close());
      const e = await exporter([
        '--collector.llamaswap',
        `--collector.llamaswap.servers=lab=${proxy.url}`,
        '--collector.llamaswap.poll-interval=200ms',
        '--collector.llamaswap.request-timeout=300ms',
        '--no-collector.probes',
      ]);
      const up = (m: ParsedExposition): number | undefined => m.value('silentwatch_llamaswap_up', { server: 'lab' });
      const ok = (m: ParsedExposition): number | undefined => m.value('silentwatch_collector_success', { collector: 'llamaswap' });
      const seen = { down: 0, failed: 0 };
      const rep = await runFault({
        exporter: e,
        collector: 'llamaswap',
        timeoutMs: TIMEOUT_MS,
        healthy: (m) => up(m) === 1,
        // The background poller (every 200 ms) has its own requests in flight at any snapshot: 400 scrapes of the
        // 10 MB case end at +2 fds, so growth, not a few sockets, is what a leak looks like.
        slack: { fds: 6 },
        faulty: (m) => up(m) === 0 || ok(m) === 0,
        check(m) {
          if (up(m) === 0) seen.down++;
          if (ok(m) === 0) seen.failed++;
        },
        inject: () => proxy.set(fault),
        clear: () => proxy.set('pass'),
      });
      console.log(describeReport(`llama-swap: ${name}`, rep) + `; up 0 in ${seen.down}, success 0 in ${seen.failed} scrapes; ${proxy.faulted} requests failed by the proxy`);
      if (fault !== 'refuse') expect(proxy.faulted).toBeGreaterThan(0);
      // Read-only throughout: only GETs from the exporter, never /upstream.
      expect(s.received.filter((r) => !r.startsWith('GET ') || r.includes('/upstream'))).toEqual([]);
    });
  }
});

/**
 * The status code each fault leaves in silentwatch_probe_http_status_code: the code that arrived, whatever
 * happened to the body afterwards (stalled, cut, too large); 0 only when no status line arrived.
 */
const PROBE_STATUS: Record<HttpFault, number> = { pass: 200, refuse: 0, hang: 0, 'slow-body': 200, cut: 200, garbage: 200 };

describe.concurrent('fault matrix: HTTP probes (probes)', { timeout: 150_000 }, () => {
  for (const [name, fault] of FAULTS) {
    it(`HTTP probe: ${name}`, async () => {
      const ml: Backend = await immichMl();
      closers.push(() => ml.stop());
      const proxy = await FaultyHttpProxy.start(`http://127.0.0.1:${ml.port}`);
      closers.push(() => proxy.close());
      const e = await exporter([`--collector.probes.immich-ml=127.0.0.1:${proxy.port}`, '--collector.probes.probe-timeout=300ms', '--no-collector.llamaswap']);
      const labels = { group: 'immich_ml', target: `127.0.0.1:${proxy.port}`, role: 'backend' };
      const ok = (m: ParsedExposition): number | undefined => m.value('silentwatch_probe_success', labels);
      let durationMax = 0;
      const rep = await runFault({
        exporter: e,
        collector: 'probes',
        timeoutMs: TIMEOUT_MS,
        expectSuccess: 1,
        healthy: (m) => ok(m) === 1,
        faulty: (m) => ok(m) === 0,
        check(m) {
          if (ok(m) !== 0) return;
          expect(m.value('silentwatch_probe_http_status_code', labels), 'status code under the fault').toBe(PROBE_STATUS[fault]);
          durationMax = Math.max(durationMax, m.value('silentwatch_probe_duration_seconds', labels) ?? Infinity);
        },
        inject: () => proxy.set(fault),
        clear: () => proxy.set('pass'),
      });
      console.log(describeReport(`HTTP probe: ${name}`, rep) + `; ${proxy.faulted} requests failed by the proxy; status ${PROBE_STATUS[fault]}, probe duration at most ${durationMax.toFixed(3)} s`);
      expect(rep.expectedSuccessScrapes).toBeGreaterThanOrEqual(96);
      // Never beyond the probe time-out (300 ms).
      expect(durationMax).toBeLessThanOrEqual(0.3);
    });
  }
});
