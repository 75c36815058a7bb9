/**
 * The status page's HTML, rendered from a snapshot: worst finding first with its evidence, fix and runbook
 * link; a clean host says so; every outside value escaped; no script and no external asset; small.
 */
import { describe, expect, it } from 'vitest';
import type { DoctorReport, Finding } from '../../src/doctor/findings.js';
import type { CollectorState } from '../../src/runner.js';
import { RUNBOOK_BASE_URL } from '../../src/thresholds/index.js';
import { defineMetric } from '../../src/metrics.js';
import { History, HISTORY_FAMILIES } from '../../src/web/history.js';
import { MAX_FINDINGS_SHOWN, renderStatusPage } from '../../src/web/page.js';
import type { StatusSnapshot } from '../../src/web/status.js';

const EVIL = '<script>alert(1)</script>"\'&';
const NOW = Date.UTC(2026, 0, 1, 12);

const finding = (severity: Finding['severity'], title: string, extra: Partial<Finding> = {}): Finding => ({
  check: 'stuck-queue',
  severity,
  title,
  evidence: ['waiting 25, active 0, workers 0'],
  fix: 'Restart the worker.',
  runbook: 'docs/runbooks/QueueNoWorkers.md',
  ...extra,
});

const states: CollectorState[] = [
  { name: 'queues', description: 'Bull/BullMQ queues', status: 'active', reason: 'auto: Redis found', failures: 0, last: { success: true, durationSeconds: 0.004, at: new Date(NOW - 5000), samples: 40 } },
  { name: 'nvidia', description: 'NVIDIA GPUs', status: 'not-detected', reason: 'auto: no nvidia-smi', failures: 0 },
];

function snapshot(report: Partial<DoctorReport>, history = new History()): StatusSnapshot {
  return { report: { findings: [], skipped: [], passed: [], ...report }, states, collectedAt: NOW - 5000, history };
}

describe('status page', () => {
  it('lists findings worst first with evidence, fix and a runbook link', () => {
    const html = renderStatusPage(
      snapshot({ findings: [finding('critical', 'queue immich_bull:smartSearch has 25 waiting job(s) and no worker connected'), finding('warning', 'GPU 0 has only 1.2 GiB of 15.0 GiB free', { check: 'low-vram', runbook: 'docs/runbooks/GpuFreeVramLow.md' })], passed: ['host-pid'], skipped: [{ check: 'ml-backend', reason: 'no probes configured' }] }),
      { telemetryPath: '/metrics', now: NOW },
    );
    expect(html).toContain('1 critical · 1 warning');
    expect(html.indexOf('smartSearch')).toBeLessThan(html.indexOf('GPU 0 has only'));
    expect(html).toContain('<li>waiting 25, active 0, workers 0</li>');
    expect(html).toContain('<b>Fix:</b> Restart the worker.');
    expect(html).toContain(`href="${RUNBOOK_BASE_URL}/QueueNoWorkers.md"`);
    expect(html).toContain('collected 5 s ago');
    expect(html).toContain('<b>ml-backend</b>: no probes configured');
    expect(html).toMatch(/<title>silentwatch: 2 findings<\/title>/);
  });

  it('says so on a clean host', () => {
    const html = renderStatusPage(snapshot({ passed: ['stuck-queue', 'silent-oom-kills'] }), { telemetryPath: '/metrics', now: NOW });
    expect(html).toContain('No problems found. 2 checks passed');
    expect(html).toContain('Nothing wrong in the latest collection.');
  });

  it('escapes every value from outside, has no script, no external asset, and refreshes itself', () => {
    const html = renderStatusPage(
      snapshot({ findings: [finding('critical', EVIL, { check: EVIL, evidence: [EVIL], fix: EVIL, runbook: EVIL })], skipped: [{ check: EVIL, reason: EVIL }] }),
      { telemetryPath: `/metrics${EVIL}`, now: NOW },
    );
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    // title, check (attribute + text), evidence, fix, runbook href, skipped check + reason, telemetry path (href + text)
    expect(html.match(/&lt;script&gt;/g)?.length).toBe(10);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\/(?!github\.com\/silentwatch)/);
    expect(html).not.toMatch(/<link|@import|url\(/);
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
    expect(html).toContain('name="viewport"');
  });

  it('stays small: findings past the cap are counted, not listed', () => {
    const many = Array.from({ length: 500 }, (_, i) => finding('warning', `container c${i} was OOM-killed`, { evidence: ['x'.repeat(200), 'y'.repeat(200)] }));
    const html = renderStatusPage(snapshot({ findings: many }), { telemetryPath: '/metrics', now: NOW });
    expect(html.match(/<article/g)?.length).toBe(MAX_FINDINGS_SHOWN);
    expect(html).toContain(`${500 - MAX_FINDINGS_SHOWN} more finding(s)`);
    expect(Buffer.byteLength(html)).toBeLessThan(50 * 1024);
  });

  it('draws the history as inline SVG with its last value', () => {
    const h = new History({ stepMs: 1000 });
    const d = defineMetric({ name: HISTORY_FAMILIES.queueJobs, type: 'gauge', help: 'h', labels: ['state'] });
    for (let i = 0; i < 10; i++) h.record([{ def: d, labels: { state: 'waiting' }, value: i * 3 }], NOW - 10_000 + i * 1000);
    const html = renderStatusPage(snapshot({}, h), { telemetryPath: '/metrics', now: NOW });
    expect(html).toMatch(/data-series="queue_backlog"><b>[^<]+<\/b><br><small>now 27 · low 0 · high 27<\/small><svg[^>]*><polyline points="0\.0,28\.0 [^"]+100\.0,2\.0"\/><\/svg>/);
    expect(html).toContain('data-series="gpu_free_vram"><b>Free VRAM (lowest GPU)</b><br><small>no data on this host</small>');
  });
});
