/**
 * Base images cannot be pulled here, so tests that build silentwatch's Dockerfile make a Node base image
 * themselves: the host's own node binary with the shared libraries it links, npm, CA certificates and a
 * static busybox for the Dockerfile's RUN steps, imported with `docker import`.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningDockerd } from './dockerd.js';

const run = promisify(execFile);

export const NODE_BASE_IMAGE = 'silentwatch-test/node:20';

export async function importNodeBaseImage(dockerd: RunningDockerd, workDir: string): Promise<string> {
  const root = join(workDir, 'node-rootfs');
  const put = (src: string, dest = src): void => {
    mkdirSync(dirname(join(root, dest)), { recursive: true });
    copyFileSync(realpathSync(src), join(root, dest));
  };
  const node = realpathSync(process.execPath);
  put(node, '/usr/local/bin/node');
  const { stdout } = await run('ldd', [node]);
  for (const m of stdout.matchAll(/(\/[^\s]+\.so[^\s]*)/g)) put(m[1] as string);
  // npm as the Dockerfile's build stage uses it
  const npmDir = dirname(dirname(realpathSync('/usr/bin/npm')));
  cpSync(npmDir, join(root, '/usr/local/lib/node_modules/npm'), { recursive: true });
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  put('/etc/ssl/certs/ca-certificates.crt');
  // shell and coreutils for RUN steps
  put('/bin/busybox', '/bin/busybox');
  for (const a of ['sh', 'env', 'ls', 'cat', 'rm', 'mkdir', 'cp', 'mv', 'chmod', 'ln', 'true']) symlinkSync('busybox', join(root, 'bin', a));
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('/bin/env', join(root, 'usr/bin/env'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  mkdirSync(join(root, 'tmp'), { recursive: true });
  mkdirSync(join(root, 'root'), { recursive: true });
  await run('sh', ['-c', `tar -C '${root}' -c . | docker -H '${dockerd.host}' import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - ${NODE_BASE_IMAGE}`], { maxBuffer: 16 * 1024 * 1024 });
  return NODE_BASE_IMAGE;
}
