/** The queues collector through a real Redis Sentinel (redis-server --sentinel) in front of a real master. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, removeDir, startDaemon, tempDir, waitFor, type Daemon } from '../../helpers/daemon.js';
import { startRedis, type RunningRedis } from '../../helpers/redis.js';
import { bullmqQueues, connectionOf, type Closer } from '../../helpers/queues.js';
import { harness, type Harness } from './collector-harness.js';
import { Redis } from 'ioredis';

let master: RunningRedis;
let sentinel: Daemon;
let sentinelPort: number;
let dir: string;
let h: Harness | undefined;
let closeQueues: Closer | undefined;

beforeAll(async () => {
  master = await startRedis();
  sentinelPort = await freePort();
  dir = tempDir('sentinel');
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor sw-master 127.0.0.1 ${master.port} 1\n`);
  sentinel = startDaemon('redis-server', [conf, '--sentinel']);
  await waitFor(async () => {
    if (sentinel.exited()) throw new Error(`sentinel exited: ${sentinel.output()}`);
    const c = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', 'sw-master')) as string[] | null;
      return addr?.[1] === String(master.port);
    } finally {
      c.disconnect();
    }
  }, 'sentinel to know the master');
  ({ close: closeQueues } = await bullmqQueues('bullmq5', connectionOf(master.port), 'immich_bull', ['smartSearch'], 4));
});
afterAll(async () => {
  await h?.close();
  await closeQueues?.();
  await sentinel?.stop();
  if (dir) removeDir(dir);
  await master?.stop();
});

it('finds the master through the sentinel and counts its queues', async () => {
  h = harness({ redis_url: 'redis://127.0.0.1:1', sentinels: `127.0.0.1:${sentinelPort}`, sentinel_master: 'sw-master' });
  const s = await h.scrape();
  expect(s.degraded).toBeUndefined();
  expect(s.value('silentwatch_queue_jobs', { prefix: 'immich_bull', queue: 'smartSearch', state: 'waiting' })).toBe(4);
  expect(h.instance.describe?.().redis).toBe(`sentinel master sw-master (127.0.0.1:${sentinelPort})`);
});
