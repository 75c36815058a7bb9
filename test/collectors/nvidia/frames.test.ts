/**
 * Cutting a looping nvidia-smi's output into samples (pure, clock passed in). The arrival times and sizes
 * are those recorded on an H200 (test/fixtures/nvidia/timing-h200-580.159.04.json: one write per sample,
 * 500 ms apart); the lagging-reader cases glue samples into one chunk as a busy event loop would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameAssembler } from '../../../src/collectors/nvidia/frames.js';
import { parseComputeApps, parseGpuQuery } from '../../../src/collectors/nvidia/parse-nvidia-smi.js';
import { NVIDIA_FIXTURES } from '../../helpers/nvidia.js';

const fx = (f: string): string => readFileSync(join(NVIDIA_FIXTURES, f), 'utf8');
const timing = JSON.parse(fx('timing-h200-580.159.04.json')) as Record<string, { chunks_ms_bytes_lines: Array<[number, number, number]> }>;
const uuidKey = (line: string): string => line.split(', ')[1] ?? line;

/** Replays a recording: its bytes cut at the recorded chunk sizes, pushed at the recorded times. */
function replay(a: FrameAssembler, text: string, chunks: Array<[number, number, number]>, onChunk?: (at: number) => void): void {
  let off = 0;
  for (const [at, bytes] of chunks) {
    a.push(text.slice(off, off + bytes), at);
    off += bytes;
    onChunk?.(at);
  }
  expect(off).toBe(text.length);
}

describe('FrameAssembler', () => {
  it('H200 GPU loop, 500 ms: every sample is one frame, handed out once its burst is over', () => {
    const text = fx('gpu-loop-h200-580.159.04-load.csv');
    const chunks = timing['gpu-loop-load.csv']!.chunks_ms_bytes_lines;
    const a = new FrameAssembler(125, 1 << 20, uuidKey);
    const lines = text.split('\n').filter(Boolean);
    let k = 0;
    replay(a, text, chunks, (at) => {
      // While the burst may still be coming: the previous sample; after the settle time: this one.
      expect(a.latest(at, 125)?.text).toBe(k === 0 ? undefined : `${lines[k - 1]}\n`);
      expect(a.latest(at + 125, 125)?.text).toBe(`${lines[k]}\n`);
      k++;
    });
    expect(k).toBe(lines.length);
    expect(parseGpuQuery(a.latest(1e9, 125)!.text).rows[0]).toMatchObject({ name: 'NVIDIA H200', driverVersion: '580.159.04', memoryUsedBytes: 11021 * 1024 * 1024 });
  });

  it('H200 process loop: a process that exits reads "[No data]" in its last sample, then nothing', () => {
    const text = fx('apps-loop-h200-580.159.04-vanish.csv');
    const a = new FrameAssembler(125, 1 << 20);
    replay(a, text, timing['apps-loop-vanish.csv']!.chunks_ms_bytes_lines);
    const last = parseComputeApps(a.latest(1e9, 125)!.text);
    expect(last.rows).toEqual([{ gpuUuid: 'GPU-74f7346c-2347-5633-577e-a8aba04ea117', pid: 561, processName: '', usedBytes: 11012 * 1024 * 1024 }]);
  });

  it('a lagging reader: two samples in one chunk are parted by content (GPU uuid; process list starting over)', () => {
    const gpu = fx('gpu-4x-a100.csv');
    const g = new FrameAssembler(250, 1 << 20, uuidKey);
    g.push(gpu + gpu.replace('71245', '71300'), 0);
    expect(g.latest(300, 250)?.text).toBe(gpu.replace('71245', '71300'));
    const apps = fx('apps-4x-a100.csv');
    const p = new FrameAssembler(250, 1 << 20);
    p.push(apps + apps, 0);
    expect(p.latest(300, 250)?.text).toBe(apps);
    // Equal lines inside one sample (two vGPU rows) stay one sample.
    const vgpu = 'GPU-777e, [N/A], vgpu, [N/A]\n';
    const v = new FrameAssembler(250, 1 << 20);
    v.push(`GPU-d018, [N/A], vgpu, [N/A]\n${vgpu}${vgpu}`, 0);
    expect(v.latest(300, 250)?.text.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('a line cut by the end of the output is kept for the parser to reject; a runaway sample is dropped, not kept', () => {
    const a = new FrameAssembler(100, 1000);
    a.push('0, GPU-a, T4, 1, 2', 0);
    a.end();
    expect(a.latest(0, 100)?.text).toBe('0, GPU-a, T4, 1, 2');
    const b = new FrameAssembler(100, 1000);
    for (let i = 0; i < 50; i++) b.push('x'.repeat(100), i); // no newline, never a gap: one endless line
    expect(b.overflows).toBeGreaterThan(0);
    expect(b.latest(1e6, 100)?.text.length ?? 0).toBeLessThanOrEqual(1000);
  });
});
