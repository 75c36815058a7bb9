/**
 * Debian's headless chromium for page tests: each call a fresh profile, no network beyond the page asked for
 * (no background, component, sync or QUIC traffic), the DOM after load, or a PNG screenshot.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { REPO_ROOT } from '../helpers/exporter.js';

const run = promisify(execFile);
export const CHROMIUM = '/usr/bin/chromium';
/** Test artefacts (gitignored): screenshots a reader can open after the run. */
export const ARTEFACTS = `${REPO_ROOT}.tmp/web`;

export function chromiumUnavailableReason(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : 'chromium is not installed (scripts/test.sh installs it)';
}

async function chromium(args: readonly string[], url: string): Promise<string> {
  const profile = tempDir('chromium');
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
    const { stdout } = await run(CHROMIUM, [...flags, ...args, url], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } finally {
    removeDir(profile);
  }
}

/** The DOM as the browser built it (after parsing, before any refresh). */
export function dumpDom(url: string): Promise<string> {
  return chromium(['--dump-dom'], url);
}

/** Writes a PNG of the page at the given window size; returns the path. */
export async function screenshot(url: string, file: string, width: number, height: number): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  await chromium(['--hide-scrollbars', `--window-size=${width},${height}`, `--screenshot=${file}`], url);
  return file;
}
