import { describe, expect, it } from 'vitest';
import { expandTargets, probesCollector } from '../../../src/collectors/probes/index.js';
import { checkResponse, hostPortOf, parseBackend, parseBackendList, parseCompactTargets } from '../../../src/collectors/probes/parse-targets.js';

describe('IMML_BACKENDS parsing', () => {
  it('the seed 003 examples, default port 3003', () => {
    expect(parseBackendList('immich-machine-learning,192.168.0.123:3003,desktop.local:3003').backends).toEqual([
      { host: 'immich-machine-learning', port: 3003 },
      { host: '192.168.0.123', port: 3003 },
      { host: 'desktop.local', port: 3003 },
    ]);
    expect(parseBackendList('my-local-ml,192.168.1.100:8000,another-server.lan').backends.map((b) => b.port)).toEqual([3003, 8000, 3003]);
  });
  it('spaces, empty entries, duplicates and IPv6', () => {
    expect(parseBackendList(' a , ,a:3003, [::1]:4000, fe80::1 ').backends).toEqual([
      { host: 'a', port: 3003 },
      { host: '[::1]', port: 4000 },
      { host: '[fe80::1]', port: 3003 },
    ]);
  });
  it('malformed entries are reported, not guessed', () => {
    const r = parseBackendList('ok,bad:port,http://x:1,a:0,a:70000,a:,user@h, a b');
    expect(r.backends).toEqual([{ host: 'ok', port: 3003 }]);
    expect(r.invalid).toEqual(['bad:port', 'http://x:1', 'a:0', 'a:70000', 'a:', 'user@h', 'a b']);
    expect(parseBackend('')).toBeUndefined();
  });
});

describe('targets', () => {
  it('compact name=url form, and bare URLs named by host:port', () => {
    expect(parseCompactTargets('ml=http://ml:3003/ping, http://u:p@x.lan/health?q=1')).toEqual([
      { name: 'ml', url: 'http://ml:3003/ping' },
      { name: 'x.lan:80', url: 'http://u:p@x.lan/health?q=1' },
    ]);
  });
  it('label values never carry paths, queries or credentials', () => {
    expect(hostPortOf('https://user:secret@h.example/p?token=1')).toBe('h.example:443');
    expect(hostPortOf('ftp://h/')).toBeUndefined();
    expect(hostPortOf('not a url')).toBeUndefined();
  });
  it('expands presets and balancers into one target per backend plus the balancer', () => {
    const opts = probesCollector.options.parse({
      targets: 'llama=http://u:pw@llama:8080/health',
      immich_ml: 'ml1,ml2:3004',
      balancers: [{ name: 'imml', url: 'http://balancer/', backends: 'ml1,desktop.local:3003' }],
    });
    const t = expandTargets(opts);
    expect(t.map((x) => [x.group, x.target, x.url])).toEqual([
      ['llama', 'llama', 'http://llama:8080/health'],
      ['immich_ml', 'ml1:3003', 'http://ml1:3003/ping'],
      ['immich_ml', 'ml2:3004', 'http://ml2:3004/ping'],
      ['imml', 'balancer:80', 'http://balancer/ping'],
      ['imml', 'ml1:3003', 'http://ml1:3003/ping'],
      ['imml', 'desktop.local:3003', 'http://desktop.local:3003/ping'],
    ]);
    expect(t[0]?.headers.authorization).toBe(`Basic ${Buffer.from('u:pw').toString('base64')}`);
    expect(t[1]?.expect).toEqual({ status: [], body: 'pong' });
  });
  it('balancers and targets also come as YAML flow strings (env vars); bad backends are config errors', () => {
    const opts = probesCollector.options.parse({ balancers: '[{name: b, url: "http://b:8080", backends: "x,y:1"}]', targets: '[{name: t, url: "http://t/", expect_status: [200, 204]}]' });
    expect(expandTargets(opts).map((x) => x.target)).toEqual(['t', 'b:8080', 'x:3003', 'y:1']);
    expect(probesCollector.options.safeParse({ balancers: [{ name: 'b', url: 'http://b', backends: 'x:99999' }] }).success).toBe(false);
    expect(probesCollector.options.safeParse({ immich_ml: 'a,b:zz' }).success).toBe(false);
    expect(probesCollector.options.safeParse({ targets: 'x=ftp://h/' }).success).toBe(false);
  });
});

describe('checkResponse', () => {
  it('status and body rules', () => {
    expect(checkResponse(200, 'pong\n', { status: [], body: 'pong' })).toBeUndefined();
    expect(checkResponse(200, 'pang', { status: [], body: 'pong' })).toMatch(/body/);
    expect(checkResponse(500, 'pong', { status: [], body: 'pong' })).toMatch(/status 500/);
    expect(checkResponse(302, '', { status: [] })).toMatch(/status 302/);
    expect(checkResponse(204, '', { status: [200, 204] })).toBeUndefined();
    expect(checkResponse(200, '', { status: [204] })).toMatch(/expected 204/);
  });
});

describe('probe roles', () => {
  it('a balancer is role balancer, its backends and the Immich ML preset role backend, plain targets role target unless set', () => {
    const roles = expandTargets({
      targets: [
        { name: 'llama', url: 'http://llama:8080/health' },
        { name: 'lb', url: 'http://lb/ping', group: 'ml', role: 'balancer' },
      ],
      immich_ml: ['ml1'],
      balancers: [{ name: 'immich-ml', url: 'http://immich-ml-balancer', backends: 'a,b:3004', path: '/ping', expect_body: 'pong', default_port: 3003 }],
    }).map((t) => `${t.group} ${t.target} ${t.role}`);
    expect(roles).toEqual(['llama llama target', 'ml lb balancer', 'immich_ml ml1:3003 backend', 'immich-ml immich-ml-balancer:80 balancer', 'immich-ml a:3003 backend', 'immich-ml b:3004 backend']);
  });
  it('an unknown role is a configuration error', () => {
    expect(() => probesCollector.options.parse({ targets: [{ url: 'http://x/', role: 'primary' }] })).toThrow();
  });
});
