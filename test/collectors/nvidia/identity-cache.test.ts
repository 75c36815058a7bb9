/** The per-PID identity cache over the real ProcessIdentity, reading a temp procfs the test rewrites. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdentityCache } from '../../../src/collectors/nvidia/identity-cache.js';
import { ProcessIdentity } from '../../../src/lib/identity/process-identity.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';

const proc = tempDir('nvidia-idcache');
afterAll(() => removeDir(proc));
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
function setProcess(pid: number, containerId: string, comm: string): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'cgroup'), `0::/system.slice/docker-${containerId}.scope\n`);
  writeFileSync(join(proc, String(pid), 'comm'), `${comm}\n`);
}

describe('IdentityCache', () => {
  it('reuses an identity while the PID is listed with the same name, re-reads on rename, age or reappearance', async () => {
    let now = 1_000_000;
    const cache = new IdentityCache(new ProcessIdentity(proc, undefined), 60_000, () => now);
    setProcess(4242, A, 'python3');
    setProcess(4343, A, 'ffmpeg');
    let r = await cache.resolve([{ pid: 4242, processName: '/usr/bin/python3' }, { pid: 4343, processName: 'ffmpeg' }, { pid: 4242, processName: '/usr/bin/python3' }]);
    expect(r.get(4242)?.labels.id).toBe('aaaaaaaaaaaa');
    expect(r.get(4242)?.comm).toBe('python3');
    expect(cache.size).toBe(2);

    // The files change (as if the PID were reused) but the listing is the same: the cached identity stands.
    setProcess(4242, B, 'python3');
    now += 10_000;
    r = await cache.resolve([{ pid: 4242, processName: '/usr/bin/python3' }]);
    expect(r.get(4242)?.labels.id).toBe('aaaaaaaaaaaa');
    expect(cache.size).toBe(1); // 4343 is no longer listed: forgotten

    // A different process_name for the same PID: resolved again.
    r = await cache.resolve([{ pid: 4242, processName: '/usr/bin/llama-server' }]);
    expect(r.get(4242)?.labels.id).toBe('bbbbbbbbbbbb');

    // Age: after maxAge the entry is read again.
    setProcess(4242, A, 'llama-server');
    now += 59_000;
    expect((await cache.resolve([{ pid: 4242, processName: '/usr/bin/llama-server' }])).get(4242)?.labels.id).toBe('bbbbbbbbbbbb');
    now += 1_000;
    expect((await cache.resolve([{ pid: 4242, processName: '/usr/bin/llama-server' }])).get(4242)?.labels.id).toBe('aaaaaaaaaaaa');

    // 4343 comes back after being forgotten: read afresh.
    setProcess(4343, B, 'ffmpeg');
    expect((await cache.resolve([{ pid: 4343, processName: 'ffmpeg' }])).get(4343)?.labels.id).toBe('bbbbbbbbbbbb');
    expect(await cache.resolve([])).toEqual(new Map());
    expect(cache.size).toBe(0);
  });
});
