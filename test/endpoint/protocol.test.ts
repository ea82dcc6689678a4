/** The endpoint's pure wire rules, table-driven: frames, filters, versions and Docker's human Status strings. */
import { ApiError, frame, humanDuration, parseApiPath, parseFilters } from '../../src/endpoint/protocol';
import { containerId, dockerState, matchesFilters, statusText } from '../../src/endpoint/containers';
import { envLines } from '../../src/endpoint/certs';

describe('endpoint protocol', () => {
  test.each([
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1000, '1 second'],
    [3000, '3 seconds'],
    [59_000, '59 seconds'],
    [60_000, 'About a minute'],
    [120_000, '2 minutes'],
    [3_600_000, 'About an hour'],
    [5 * 3_600_000, '5 hours'],
    [3 * 86_400_000, '3 days'],
  ])('GIVEN %i ms THEN humanDuration says "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  test('GIVEN a payload THEN the frame is [stream,0,0,0,size BE] then the bytes', () => {
    expect([...frame(2, 'hi\n')]).toEqual([2, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
    expect(frame(1, Buffer.alloc(300)).readUInt32BE(4)).toBe(300);
  });

  test.each([
    ['{"name":{"web":true}}', { name: ['web'] }],
    ['{"name":["a","b"]}', { name: ['a', 'b'] }],
    ['{"status":{"exited":true,"running":false}}', { status: ['exited'] }],
  ])('GIVEN filters %s THEN they parse', (text, want) => {
    expect(Object.fromEntries(parseFilters(text))).toEqual(want);
  });

  test('GIVEN bad filters THEN 400', () => {
    expect(() => parseFilters('{')).toThrow(ApiError);
    expect(() => parseFilters('{"name":3}')).toThrow(/must map to values/);
  });

  test.each([
    ['/_ping', undefined, '/_ping'],
    ['/v1.41/containers/json?all=1', '1.41', '/containers/json'],
    ['/v1.45/version', '1.45', '/version'],
  ])('GIVEN %s THEN version %s and path %s', (url, version, path) => {
    const p = parseApiPath(url);
    expect([p.version, p.path]).toEqual([version, path]);
  });

  test.each(['/v1.12/version', '/v1.46/version'])('GIVEN %s THEN 400: out of range', (url) => {
    expect(() => parseApiPath(url)).toThrow(/is not supported by this endpoint/);
  });
});

describe('containers as docker sees them', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const vm = (over: Record<string, unknown>) => ({ id: 'uuid-1', name: 'web', power_state: 'stopped', status: 'created', exit_code: null, ...over });

  test.each([
    [{ power_state: 'running', status: 'running', started_at: '2026-01-01T11:59:57Z' }, 'running', 'Up 3 seconds'],
    [{ status: 'exited', exit_code: 0, finished_at: '2026-01-01T11:58:00Z' }, 'exited', 'Exited (0) 2 minutes ago'],
    [{ status: 'exited', exit_code: 137, finished_at: '2026-01-01T11:59:59.5Z' }, 'exited', 'Exited (137) Less than a second ago'],
    [{}, 'created', 'Created'],
  ])('GIVEN %j THEN state %s and Status "%s"', (over, state, status) => {
    expect(dockerState(vm(over))).toBe(state);
    expect(statusText(vm(over), now)).toBe(status);
  });

  test('GIVEN the same BIOS UUID THEN the same 64-hex id; another UUID, another id', () => {
    expect(containerId(vm({}))).toMatch(/^[0-9a-f]{64}$/);
    expect(containerId(vm({}))).toBe(containerId(vm({ name: 'other' })));
    expect(containerId(vm({ id: 'uuid-2' }))).not.toBe(containerId(vm({})));
  });

  test.each([
    [{ name: ['^/we'] }, true],
    [{ name: ['db'] }, false],
    [{ status: ['created'] }, true],
    [{ label: ['tier=web'] }, true],
    [{ label: ['tier=db'] }, false],
    [{ label: ['tier'] }, true],
    // Every label given must hold, as dockerd's.
    [{ label: ['tier=web', 'app=x'] }, false],
    [{ label: ['tier=web', 'tier'] }, true],
    [{ name: ['web'], status: ['running'] }, false],
  ])('GIVEN filters %j THEN match is %s', (filters, want) => {
    expect(matchesFilters(vm({ labels: { tier: 'web' } }), new Map(Object.entries(filters)))).toBe(want);
  });

  test('GIVEN TLS or not THEN the env lines say so, quoted for eval', () => {
    expect(envLines({ host: '127.0.0.1', port: 2376, tls: true, certPath: "/a b/it's" })).toEqual([
      "export DOCKER_HOST='tcp://127.0.0.1:2376'",
      "export DOCKER_CERT_PATH='/a b/it'\\''s'",
      'export DOCKER_TLS_VERIFY=1',
    ]);
    expect(envLines({ host: '::1', port: 2375, tls: false })).toEqual(["export DOCKER_HOST='tcp://[::1]:2375'", 'unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH']);
  });
});
