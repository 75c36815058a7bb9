/**
 * Real Bull / BullMQ queues with jobs in every state, made with the libraries themselves (bullmq 6,
 * bullmq5 = bullmq@5, bull 4) against a test's redis-server. Used by the queues tests, the fixture
 * recorder and the benchmark.
 */
import Bull from 'bull';
import * as mq6 from 'bullmq';
import * as mq5 from 'bullmq5';
import { waitFor } from './daemon.js';

export type Lib = 'bullmq6' | 'bullmq5' | 'bull';

/** Immich's queue names (QueueName in immich server/src/enum.ts), with prefix `immich_bull`. */
export const IMMICH_PREFIX = 'immich_bull';
export const IMMICH_QUEUES = [
  'thumbnailGeneration',
  'metadataExtraction',
  'videoConversion',
  'faceDetection',
  'facialRecognition',
  'smartSearch',
  'duplicateDetection',
  'backgroundTask',
  'storageTemplateMigration',
  'migration',
  'search',
  'sidecar',
  'library',
  'notifications',
  'backupDatabase',
  'ocr',
  'workflow',
  'editor',
] as const;

export interface Connection {
  host: string;
  port: number;
  password?: string;
  db?: number;
}

export function connectionOf(port: number, password?: string): Connection {
  return { host: '127.0.0.1', port, ...(password ? { password } : {}) };
}

/** Something to close at the end of a test file (queues, workers, a blocking job's release). */
export type Closer = () => Promise<void>;

export interface Populated {
  /** The library's own getJobCounts() of the queue, read after populating. */
  counts(): Promise<Record<string, number>>;
  workersCount(): Promise<number>;
  close: Closer;
}

/** Both majors expose the same API for what is used here; typed as v5 so one code path drives both. */
type AnyMq = typeof mq5;
const mqOf = (lib: 'bullmq6' | 'bullmq5'): AnyMq => (lib === 'bullmq6' ? (mq6 as unknown as AnyMq) : mq5);

/**
 * A BullMQ queue with jobs in every state: completed 3, failed 2 (after 2 attempts each), active 1 (held
 * by a worker that blocks until close), waiting 4, delayed 2, prioritized 2, waiting-children 1 (a flow
 * whose child waits in the same queue, so waiting reads 5).
 */
export async function populateBullMQ(lib: 'bullmq6' | 'bullmq5', connection: Connection, prefix: string, name: string): Promise<Populated> {
  const M = mqOf(lib);
  const queue = new M.Queue(name, { connection, prefix });
  // Phase 1: a worker finishes 3 jobs and fails 2 (each after 2 attempts), then leaves.
  await queue.addBulk([
    ...[1, 2, 3].map((i) => ({ name: 'ok', data: { i } })),
    ...[1, 2].map((i) => ({ name: 'fail', data: { i }, opts: { attempts: 2 } })),
  ]);
  const w1 = new M.Worker(
    name,
    async (job) => {
      if (job.name === 'fail') throw new Error('planned failure');
      return 'done';
    },
    { connection, prefix, concurrency: 1 },
  );
  await waitFor(async () => {
    const c = await queue.getJobCounts('completed', 'failed');
    return c.completed === 3 && c.failed === 2;
  }, `${lib} ${name}: completed 3 and failed 2`);
  await w1.close();
  // Phase 2: a worker takes one job and blocks on it until close().
  let release: () => void = () => undefined;
  const blocker = new Promise<void>((r) => (release = r));
  await queue.add('block', {});
  const w2 = new M.Worker(
    name,
    async () => {
      await blocker;
    },
    { connection, prefix, concurrency: 1, lockDuration: 60_000 },
  );
  await waitFor(async () => (await queue.getJobCounts('active')).active === 1, `${lib} ${name}: one active job`);
  await queue.addBulk([1, 2, 3, 4].map((i) => ({ name: 'wait', data: { i } })));
  await queue.add('later', {}, { delay: 3_600_000 });
  await queue.add('later', {}, { delay: 7_200_000 });
  await queue.add('urgent', {}, { priority: 1 });
  await queue.add('urgent', {}, { priority: 5 });
  const flow = new M.FlowProducer({ connection, prefix });
  await flow.add({ name: 'parent', queueName: name, children: [{ name: 'child', queueName: name }] });
  await flow.close();
  return {
    counts: () => queue.getJobCounts() as Promise<Record<string, number>>,
    workersCount: () => queue.getWorkersCount(),
    async close() {
      release();
      await w2.close(true).catch(() => undefined);
      await queue.close().catch(() => undefined);
    },
  };
}

/** A Bull queue with jobs in every Bull state: completed 3, failed 2, active 1 (blocked), waiting 4, delayed 2. */
export async function populateBull(connection: Connection, prefix: string, name: string): Promise<Populated> {
  const redis = { host: connection.host, port: connection.port, password: connection.password };
  const queue = new Bull(name, { redis, prefix });
  for (const i of [1, 2, 3]) await queue.add('ok', { i });
  for (const i of [1, 2]) await queue.add('fail', { i }, { attempts: 2 });
  let release: () => void = () => undefined;
  const blocker = new Promise<void>((r) => (release = r));
  const worker = new Bull(name, { redis, prefix });
  void worker.process('ok', 1, async () => 'done');
  void worker.process('fail', 1, async () => {
    throw new Error('planned failure');
  });
  void worker.process('block', 1, async () => {
    await blocker;
  });
  await waitFor(async () => {
    const c = await queue.getJobCounts();
    return c.completed === 3 && c.failed === 2;
  }, `bull ${name}: completed 3 and failed 2`);
  await queue.add('block', {});
  await waitFor(async () => (await queue.getJobCounts()).active === 1, `bull ${name}: one active job`);
  // The named processors above all poll the same wait list; with one blocked, the others would still take
  // new jobs, so the next jobs get a name nobody processes... Bull routes by name inside one processor
  // loop, so instead pause the worker locally: it stops taking jobs without touching the global state.
  await worker.pause(true, true);
  for (const i of [1, 2, 3, 4]) await queue.add('wait', { i });
  await queue.add('later', {}, { delay: 3_600_000 });
  await queue.add('later', {}, { delay: 7_200_000 });
  return {
    counts: async () => (await queue.getJobCounts()) as unknown as Record<string, number>,
    workersCount: async () => (await queue.getWorkers()).length,
    async close() {
      release();
      await worker.close(true).catch(() => undefined);
      await queue.close(true).catch(() => undefined);
    },
  };
}

/** Plain queues with `waiting` jobs only, for layouts (Immich) and scale tests. */
export async function bullmqQueues(lib: 'bullmq6' | 'bullmq5', connection: Connection, prefix: string, names: readonly string[], jobsEach: number): Promise<{ queues: mq5.Queue[]; close: Closer }> {
  const M = mqOf(lib);
  const queues = names.map((n) => new M.Queue(n, { connection, prefix }));
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  if (jobsEach > 0) await Promise.all(queues.map((q) => q.addBulk(Array.from({ length: jobsEach }, (_, i) => ({ name: 'job', data: { i } })))));
  return {
    queues,
    async close() {
      await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    },
  };
}

/**
 * A BullMQ worker in a child process (real BullMQ, its own connections) that takes one job and never
 * returns, so a test can SIGKILL it mid-job the way the kernel's OOM killer would.
 */
export async function workerProcess(lib: 'bullmq6' | 'bullmq5', connection: Connection, prefix: string, name: string): Promise<{ kill(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const script = `
    const { Worker } = await import(${JSON.stringify(lib === 'bullmq6' ? 'bullmq' : 'bullmq5')});
    const w = new Worker(${JSON.stringify(name)}, () => new Promise(() => {}), {
      connection: ${JSON.stringify(connection)}, prefix: ${JSON.stringify(prefix)}, lockDuration: 2000, stalledInterval: 1000 });
    w.on('active', () => console.log('active'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('active'), `${lib} worker process took a job`, 20_000);
  return {
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A BullMQ worker whose processor never returns (a hung call to a backend); BullMQ keeps renewing its lock. */
export function hungWorker(lib: 'bullmq6' | 'bullmq5', connection: Connection, prefix: string, name: string): Closer {
  const M = mqOf(lib);
  const w = new M.Worker(name, () => new Promise<void>(() => undefined), { connection, prefix, concurrency: 1 });
  return async () => {
    await w.close(true).catch(() => undefined);
  };
}

/** A healthy, busy BullMQ queue: jobs keep arriving every `everyMs`, a worker takes `jobMs` per job (removeOnComplete, as Immich). */
export async function busyQueue(lib: 'bullmq6' | 'bullmq5', connection: Connection, prefix: string, name: string, opts: { backlog: number; everyMs: number; jobMs: number; maxLenEvents?: number }): Promise<Closer> {
  const M = mqOf(lib);
  const streams = opts.maxLenEvents ? { streams: { events: { maxLen: opts.maxLenEvents } } } : {};
  const queue = new M.Queue(name, { connection, prefix, ...streams, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  await queue.addBulk(Array.from({ length: opts.backlog }, (_, i) => ({ name: 'job', data: { i } })));
  const worker = new M.Worker(name, () => new Promise<void>((r) => setTimeout(r, opts.jobMs)), { connection, prefix, concurrency: 2 });
  const feeder = setInterval(() => void queue.add('job', {}).catch(() => undefined), opts.everyMs);
  return async () => {
    clearInterval(feeder);
    await worker.close(true).catch(() => undefined);
    await queue.close().catch(() => undefined);
  };
}

/** A Bull 4 worker whose processor never returns. */
export async function hungBullQueue(connection: Connection, prefix: string, name: string, waiting: number): Promise<Closer> {
  const redis = { host: connection.host, port: connection.port, password: connection.password, ...(connection.db ? { db: connection.db } : {}) };
  const queue = new Bull(name, { redis, prefix });
  void queue.process(1, () => new Promise(() => undefined));
  for (let i = 0; i <= waiting; i++) await queue.add({ i });
  await waitFor(async () => (await queue.getJobCounts()).active === 1, `bull ${name}: one active job`);
  return async () => {
    await queue.close(true).catch(() => undefined);
  };
}
