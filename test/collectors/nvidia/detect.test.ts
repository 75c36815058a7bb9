/** Detection: nvidia-smi found on PATH or at a path; a non-executable file or a missing one is "absent". */
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../../src/collectors/nvidia/index.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';

const dir = tempDir('nvidia-detect');
afterAll(() => removeDir(dir));

describe('findExecutable', () => {
  it('finds a bare name on PATH, first match wins', async () => {
    copyFileSync(fileURLToPath(new URL('../../fixtures/nvidia/fake-nvidia-smi.sh', import.meta.url)), join(dir, 'nvidia-smi'));
    chmodSync(join(dir, 'nvidia-smi'), 0o755);
    expect(await findExecutable('nvidia-smi', `/nonexistent:${dir}:/usr/bin`)).toBe(join(dir, 'nvidia-smi'));
    expect(await findExecutable('nvidia-smi', '/nonexistent')).toBeUndefined();
    expect(await findExecutable('nvidia-smi', '')).toBeUndefined();
  });

  it('takes a path as given; a file without the execute bit is not a binary', async () => {
    writeFileSync(join(dir, 'not-exec'), '#!/bin/sh\n');
    chmodSync(join(dir, 'not-exec'), 0o644);
    expect(await findExecutable(join(dir, 'nvidia-smi'), '')).toBe(join(dir, 'nvidia-smi'));
    // (even for root, access(X_OK) needs some execute bit)
    expect(await findExecutable(join(dir, 'not-exec'), '')).toBeUndefined();
    expect(await findExecutable(join(dir, 'missing'), '')).toBeUndefined();
  });
});
