import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findMount, fstypeMatches, nfsMode, parseMountinfo } from '../../../src/collectors/mounts/parse-mountinfo.js';
import { DEFAULT_EXPECTED_FSTYPES } from '../../../src/collectors/mounts/index.js';
import { parseProbeResult } from '../../../src/collectors/mounts/parse-probe-result.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/mounts/${name}`, import.meta.url), 'utf8');

describe('parseMountinfo on a recorded capture', () => {
  const entries = parseMountinfo(fixture('mountinfo-debian-6.x-container-tmpfs-fuse.txt'));
  const lines = fixture('mountinfo-debian-6.x-container-tmpfs-fuse.txt').trim().split('\n');

  it('parses every line, including nsfs entries whose root is not a path', () => {
    expect(entries).toHaveLength(lines.length);
    expect(entries.filter((e) => e.fstype === 'nsfs').length).toBeGreaterThan(10);
  });
  it('decodes octal escapes in mount points and finds the test tmpfs', () => {
    const m = findMount(entries, '/tmp/sw-rec-SxOD/photo library/');
    expect(m).toMatchObject({ fstype: 'tmpfs', source: 'swtest', mountPoint: '/tmp/sw-rec-SxOD/photo library' });
    expect(m?.superOptions).toContain('size=1024k');
    expect(nfsMode(m!)).toBe('');
  });
  it('sees the FUSE subtype and matches it with the fuse.* pattern', () => {
    const m = findMount(entries, '/tmp/sw-rec-SxOD/fuse');
    expect(m?.fstype).toBe('fuse.silentwatch-hang');
    expect(fstypeMatches(m!.fstype, DEFAULT_EXPECTED_FSTYPES)).toBe(true);
    expect(fstypeMatches('ext4', DEFAULT_EXPECTED_FSTYPES)).toBe(false);
    expect(fstypeMatches('tmpfs', DEFAULT_EXPECTED_FSTYPES)).toBe(false);
  });
  it('the root and absent paths', () => {
    expect(findMount(entries, '/')?.fstype).toBe('ext4');
    expect(findMount(entries, '/tmp/sw-rec-SxOD')).toBeUndefined();
    expect(findMount(entries, '/mnt/photos')).toBeUndefined();
  });
});

describe('NFS, CIFS and FUSE lines', () => {
  const entries = parseMountinfo(fixture('mountinfo-nfs-cifs-sshfs-written.txt'));
  it('soft, softerr, explicit hard and implicit hard NFS', () => {
    expect(nfsMode(findMount(entries, '/mnt/fotos_nas')!)).toBe('soft');
    expect(nfsMode(findMount(entries, '/mnt/softerr')!)).toBe('soft');
    expect(nfsMode(findMount(entries, '/mnt/old kernel')!)).toBe('hard');
    expect(findMount(entries, '/mnt/fotos_nas')?.fstype).toBe('nfs');
  });
  it('a mount stacked on the same point: the upper (later) one wins', () => {
    expect(findMount(entries, '/srv/immich/library')?.fstype).toBe('tmpfs');
  });
  it('cifs "soft" is not an NFS mode', () => {
    const m = findMount(entries, '/mnt/smb')!;
    expect(m.fstype).toBe('cifs');
    expect(nfsMode(m)).toBe('');
    expect(fstypeMatches('cifs', DEFAULT_EXPECTED_FSTYPES)).toBe(true);
    expect(fstypeMatches(findMount(entries, '/mnt/remote')!.fstype, DEFAULT_EXPECTED_FSTYPES)).toBe(true);
  });
  it('a bind mount keeps its own mount point and root', () => {
    expect(findMount(entries, '/mnt/bind')?.fstype).toBe('ext4');
  });
  it('fstype patterns', () => {
    expect(fstypeMatches('anything', ['*'])).toBe(true);
    expect(fstypeMatches('fuse', ['fuse.*'])).toBe(false);
    expect(fstypeMatches('fuseblk', ['fuse.*'])).toBe(false);
    expect(fstypeMatches('nfs4', ['nfs'])).toBe(false);
  });
});

describe('broken input', () => {
  it('empty: no entries', () => {
    expect(parseMountinfo(fixture('mountinfo-empty.txt'))).toEqual([]);
  });
  it('truncated: complete lines parsed, a cut line never invents a mount point', () => {
    const full = parseMountinfo(fixture('mountinfo-debian-6.x-container-tmpfs-fuse.txt'));
    const cut = parseMountinfo(fixture('mountinfo-truncated.txt'));
    expect(cut.length).toBeGreaterThan(3);
    for (const e of cut) expect(full.map((f) => f.mountPoint)).toContain(e.mountPoint);
  });
  it('garbage: only the valid line survives', () => {
    expect(parseMountinfo(fixture('mountinfo-garbage.txt')).map((e) => e.mountPoint)).toEqual(['/ok']);
  });
});

describe('parseProbeResult', () => {
  it('ok and error results', () => {
    expect(parseProbeResult('{"ok":true,"seconds":0.002}')).toEqual({ ok: true, seconds: 0.002 });
    expect(parseProbeResult('{"ok":false,"code":"EIO","seconds":15}')).toEqual({ ok: false, code: 'EIO', seconds: 15 });
    expect(parseProbeResult('{"ok":false,"code":"<weird>","seconds":1}')).toEqual({ ok: false, code: 'UNKNOWN', seconds: 1 });
  });
  it('empty, truncated and malformed output is an error, never a value', () => {
    for (const bad of ['', '{"ok":true,"sec', 'null', '{"ok":true}', '{"ok":true,"seconds":-1}', '{"ok":"yes","seconds":1}', '{"ok":true,"seconds":"NaN"}']) {
      expect(() => parseProbeResult(bad), bad).toThrow();
    }
  });
});
