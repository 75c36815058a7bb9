/** Lint and type-check as part of the suite, so CI's pass/fail count includes them. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/exporter.js';

const run = promisify(execFile);

async function check(cmd: string, args: string[]): Promise<string> {
  try {
    await run(cmd, args, { cwd: REPO_ROOT, timeout: 240_000, maxBuffer: 32 * 1024 * 1024 });
    return '';
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message;
  }
}

describe('static checks', () => {
  it('tsc --noEmit (strict) reports nothing', async () => {
    expect(await check('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])).toBe('');
  }, 240_000);
  it('eslint reports nothing', async () => {
    expect(await check('npx', ['eslint', '--max-warnings=0', '.'])).toBe('');
  }, 240_000);
});
