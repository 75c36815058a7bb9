/** Detection's TCP pre-check: says "no Redis" without loading a Redis client when nothing listens. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { tcpReachable } from '../../../src/collectors/queues/index.js';
import { freePort } from '../../helpers/daemon.js';

describe('tcpReachable', () => {
  it('refused: not reachable, with the reason', async () => {
    const port = await freePort();
    const r = await tcpReachable('127.0.0.1', port, 1500);
    expect(r).toEqual({ ok: false, why: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('a listener: reachable, and the probe connection is closed at once', async () => {
    let closed = 0;
    const server = createServer((c) => c.on('close', () => closed++));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    expect(await tcpReachable('127.0.0.1', port, 1500)).toEqual({ ok: true, why: 'connected' });
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(1);
    await new Promise((r) => server.close(r));
  });
});
