/**
 * VIC Group1 1-13 version, plus the protocol edges under every command: the ping and its headers,
 * version negotiation with and without the /v1.xx prefix, JSON errors, and unsupported routes that
 * answer at once. A second client (node's https with the client bundle) checks what the docker
 * CLI hides.
 */
import { API_VERSION } from '../../src/endpoint/protocol';
import { useDockerBed } from './docker-env';

describe('1-13 docker version, and the protocol edges', () => {
  const bed = useDockerBed();

  const call = (method: string, path: string, body?: unknown) => bed().call(method, path, body);

  test('GIVEN the endpoint WHEN docker version runs THEN it shows the server with an API version the CLI accepts', async () => {
    const r = await bed().docker(['version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Server: vic-iac \(VMware vSphere\)/);
    expect(r.stdout).toMatch(new RegExp(`API version:\\s+${API_VERSION.replace('.', '\\.')} \\(minimum version 1\\.24\\)`));
    expect(r.stdout).toMatch(/Version:\s+0\.0\.0-test/);
    const fmt = await bed().docker(['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}']);
    expect(fmt.stdout.trim()).toBe(`${API_VERSION} ${API_VERSION}`);
  });

  test('GIVEN HEAD and GET /_ping THEN both answer 200 with the API-Version headers, GET with "OK"', async () => {
    const head = await call('HEAD', '/_ping');
    expect(head.status).toBe(200);
    expect(head.headers['api-version']).toBe(API_VERSION);
    expect(head.headers['ostype']).toBe('linux');
    expect(head.body).toBe('');
    const get = await call('GET', '/_ping');
    expect([get.status, get.body, get.headers['api-version']]).toEqual([200, 'OK', API_VERSION]);
    const versioned = await call('GET', '/v1.41/_ping');
    expect([versioned.status, versioned.body]).toEqual([200, 'OK']);
  });

  test('GIVEN paths with and without /v1.xx THEN both are served; a version out of range is 400 with a message', async () => {
    const plain = await call('GET', '/version');
    const prefixed = await call('GET', '/v1.44/version');
    expect(JSON.parse(plain.body).ApiVersion).toBe(API_VERSION);
    expect(JSON.parse(prefixed.body).ApiVersion).toBe(API_VERSION);
    const tooNew = await call('GET', '/v1.99/version');
    expect(tooNew.status).toBe(400);
    expect(JSON.parse(tooNew.body).message).toMatch(/client version 1\.99 is not supported.*1\.24 to 1\.45/);
  });

  test("GIVEN unknown containers and images THEN 404 with Docker's messages, as JSON", async () => {
    const c = await call('GET', '/v1.45/containers/nope/json');
    expect([c.status, c.headers['content-type'], JSON.parse(c.body)]).toEqual([404, 'application/json', { message: 'No such container: nope' }]);
    const i = await call('GET', '/images/nope:1/json');
    expect([i.status, JSON.parse(i.body)]).toEqual([404, { message: 'No such image: nope:1' }]);
    const r = await bed().docker(['inspect', '--type', 'container', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No such container: nope/);
  });

  test.each([
    ['POST', '/v1.45/build', /docker build is not supported by vic-iac: build the image elsewhere/],
    ['GET', '/swarm', /swarm is not supported by vic-iac/],
    ['GET', '/something/else', /GET \/something\/else is not supported by vic-iac/],
  ])('GIVEN %s %s THEN 501 at once with what to use instead', async (method, path, message) => {
    const started = Date.now();
    const r = await call(method, path);
    expect(r.status).toBe(501);
    expect(JSON.parse(r.body).message).toMatch(message);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  // Of a container that is there: 501 (compose's pause), its changes (1-42-diff) or a new image (1-41-commit); of one that is not, dockerd's 404 first.
  test.each([
    ['GET', '/containers/x/changes'],
    ['POST', '/containers/x/pause'],
    ['POST', '/commit?container=x'],
  ])('GIVEN %s %s of a container that is not there THEN 404 No such container at once', async (method, path) => {
    const started = Date.now();
    const r = await call(method, path);
    expect([r.status, JSON.parse(r.body).message]).toEqual([404, 'No such container: x']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('GIVEN docker commands vic-iac does not do THEN the CLI shows the reason and exits 1 at once', async () => {
    const search = await bed().docker(['search', 'busybox']);
    expect(search.code).toBe(1);
    expect(search.stderr).toMatch(/docker search is not supported by vic-iac/);
    const swarm = await bed().docker(['swarm', 'init']);
    expect(swarm.code).toBe(1);
    expect(swarm.stderr).toMatch(/swarm is not supported by vic-iac/);
  });

  test('GIVEN every API path THEN no answer reveals the vSphere credentials', async () => {
    const paths = ['/info', '/version', '/containers/json?all=1', '/images/json', '/networks', '/networks/VM%20Network'];
    const answers = await Promise.all(paths.map((p) => call('GET', p)));
    expect(answers.map((a) => a.status)).toEqual(paths.map(() => 200));
    for (const a of answers) expect(a.body).not.toContain(bed().vspherePassword);
  });
});
