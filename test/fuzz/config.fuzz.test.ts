/**
 * The configuration loader on ≥10,000 generated configurations: any mix of flags, SILENTWATCH_* variables and
 * YAML (structured or garbage) either gives a usable Config or a ConfigError whose message says what is wrong —
 * never another exception (which would crash the CLI with a stack trace instead of exit 2), never a Config with
 * a non-finite or non-positive time-out or an impossible port.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_COLLECTORS } from '../../src/collectors/index.js';
import { ConfigError, configKeys, EarlyExit, loadConfig, type Config } from '../../src/config.js';
import { FUZZ_RUNS } from './arbitraries.js';

const KEYS = configKeys(ALL_COLLECTORS);
const dir = mkdtempSync(join(tmpdir(), 'silentwatch-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Values that are valid for some key and invalid for most others, plus the classic troublemakers. */
const scalar = fc.oneof(
  fc.constantFrom('5s', '500ms', '1m', '0s', '0', '-1', '1e309', 'NaN', 'Infinity', 'true', 'false', 'auto', 'yes', '', ' ', ':10290', '127.0.0.1:0', '[::1]:1', '99999'),
  fc.constantFrom('redis://h:6379', 'redis://:p@h:1/2', 'rediss://h', 'http://127.0.0.1:1', 'unix:///var/run/docker.sock', 'a=http://x:1,b=http://y:2', 'a,b,,c', '/proc', 'debug', 'loud'),
  fc.string({ maxLength: 20 }),
);
const yamlValue: fc.Arbitrary<unknown> = fc.oneof(
  scalar,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('name', 'url', 'api_key', 'backends', 'expect_status', 'x'), scalar, { maxKeys: 3 }),
);
const someKey = fc.constantFrom(...KEYS);

const input = fc.record({
  flags: fc.array(fc.tuple(someKey, scalar, fc.boolean()), { maxLength: 3 }),
  env: fc.array(fc.tuple(someKey, scalar), { maxLength: 3 }),
  yaml: fc.oneof(
    fc.constant(undefined),
    fc.array(fc.tuple(someKey, yamlValue), { maxLength: 4 }),
    fc.string({ maxLength: 200 }), // not YAML, or YAML of the wrong shape
  ),
  stray: fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 12 }, { arbitrary: fc.constantFrom(['--nope'], ['extra'], ['--web.listen-address'], ['--help']), weight: 1 }),
});

type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

let n = 0;
function load(i: Input): Config {
  const argv: string[] = [...i.stray];
  for (const [k, v, eq] of i.flags) {
    if (k.isSwitch) argv.push(v === 'false' ? k.flag.replace(/^--/, '--no-') : k.flag);
    else argv.push(...(eq ? [`${k.flag}=${v}`] : [k.flag, v]));
  }
  const env: Record<string, string> = {};
  for (const [k, v] of i.env) env[k.env] = v;
  if (i.yaml !== undefined) {
    const file = join(dir, `c${n++ % 16}.yml`);
    if (typeof i.yaml === 'string') writeFileSync(file, i.yaml);
    else {
      const doc: Record<string, unknown> = {};
      for (const [k, v] of i.yaml) {
        let node = doc;
        for (const seg of k.path.slice(0, -1)) node = (node[seg] ??= {}) as Record<string, unknown>;
        node[k.path.at(-1) as string] = v;
      }
      writeFileSync(file, stringify(doc));
    }
    argv.push(`--config=${file}`);
  }
  return loadConfig({ argv, env, collectors: ALL_COLLECTORS });
}

const positiveFinite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe('fuzzed configuration', () => {
  it(`flags, environment and YAML together (${FUZZ_RUNS} inputs): a Config or a ConfigError, nothing else`, () => {
    let ok = 0;
    let refused = 0;
    fc.assert(
      fc.property(input, (i) => {
        let c: Config;
        try {
          c = load(i);
        } catch (e) {
          if (e instanceof EarlyExit) return;
          expect(e, String((e as Error).stack)).toBeInstanceOf(ConfigError);
          const m = (e as Error).message;
          expect(m).toMatch(/^config: \S/);
          expect(m).not.toMatch(/\[object Object\]|undefined \(from|: undefined$/);
          refused++;
          return;
        }
        ok++;
        expect(positiveFinite(c.collectors.timeout)).toBe(true);
        expect(positiveFinite(c.docker.timeout)).toBe(true);
        const port = c.web.listen_address.port;
        expect(Number.isInteger(port) && port >= 0 && port <= 65535).toBe(true);
        for (const col of ALL_COLLECTORS) {
          const cc = c.collectors[col.name] as { enabled: unknown; timeout?: unknown };
          expect(['true', 'false', 'auto', true, false]).toContain(cc.enabled);
          if (cc.timeout !== undefined) expect(positiveFinite(cc.timeout)).toBe(true);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
    // Both outcomes really happened (the generator is not stuck on one side).
    expect(ok).toBeGreaterThan(FUZZ_RUNS / 50);
    expect(refused).toBeGreaterThan(FUZZ_RUNS / 50);
    console.log(`[fuzz] config: ${ok} accepted, ${refused} refused with a ConfigError`);
    // About 35 s on 2 idle cores (3.5 ms per configuration); twice that on a busy machine went past the default 60 s.
  }, 180_000);
});
