/** Builds dist/ once so every test that starts the real exporter runs the same code users run. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // Each vitest project runs its global setup; they share this process, and one build is enough.
  if (process.env.SW_TEST_DIST_BUILT === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  process.env.SW_TEST_DIST_BUILT = '1';
}
