/**
 * Registry access: basic auth (htpasswd), bearer tokens (the Docker token protocol), TLS with a
 * pinned CA, redirects to a blob store. All against the real docker-registry.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, LocalDirectoryImageStore, resolveReference } from '../../src/images';
import { versionedImage } from '../fixtures/images/test-images';
import { writeOciLayout, type WrittenLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';

const USER = { username: 'vic-tester', password: 'S3cret-Pa55word!' };
const WRONG = { username: 'vic-tester', password: 'not-the-Pa55word' };

let scratch: string;
let layout: WrittenLayout;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vic-images-auth-'));
  layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [versionedImage('auth')]);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Asserts the rejection's message (and its whole serialisation) never holds the password. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const err = (await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  )) as Error;
  for (const text of [err.message, String(err.stack), JSON.stringify(err)]) {
    expect(text).not.toContain(USER.password);
    expect(text).not.toContain(WRONG.password);
  }
  return err;
}

describe.each([
  ['basic auth (htpasswd)', { basicAuth: USER }],
  ['bearer tokens (token service)', { tokenAuth: USER }],
])('GIVEN a registry with %s', (_name, options) => {
  const registry = useRegistry(options);
  beforeAll(async () => {
    await registry().push(layout.dir, 'v1', 'private/app:v1');
  }, 60_000);
  const reference = () => `${registry().host}/private/app:v1`;

  test('WHEN pulling with the right credentials THEN the image builds', async () => {
    const store = new LocalDirectoryImageStore(await mkdtemp(join(scratch, 'store-')));
    const info = await buildImage({ reference: reference(), auth: USER, insecureRegistry: true, workDir: scratch }, store);
    expect(info.digest).toBe(layout.manifestDigests[0]);
  });

  test('WHEN pulling anonymously THEN the error says credentials are needed', async () => {
    const err = await rejectionOf(resolveReference({ reference: reference(), insecureRegistry: true }));
    expect(err).toMatchObject({ code: 'RegistryAuth' });
    expect(err.message).toMatch(/requires credentials .*set registry_auth/);
  });

  test('WHEN the password is wrong THEN the error names the user, not the password', async () => {
    const err = await rejectionOf(resolveReference({ reference: reference(), auth: WRONG, insecureRegistry: true }));
    expect(err).toMatchObject({ code: 'RegistryAuth' });
    expect(err.message).toMatch(/rejected the credentials of user "vic-tester".*wrong user name or password/);
  });
});

describe('GIVEN a TLS registry whose certificate comes from a private CA', () => {
  const registry = useRegistry({ tls: true, basicAuth: USER });
  beforeAll(async () => {
    await registry().push(layout.dir, 'v1', 'tls/app:v1');
  }, 60_000);
  const reference = () => `${registry().host}/tls/app:v1`;

  test('WHEN ca_file pins that CA THEN the pull is verified and works', async () => {
    const resolved = await resolveReference({ reference: reference(), auth: USER, caFile: registry().caFile });
    expect(resolved.digest).toBe(layout.manifestDigests[0]);
  });

  test('WHEN no CA is given THEN the certificate is refused, with ca_file and insecure_registry as the ways out', async () => {
    const err = await rejectionOf(resolveReference({ reference: reference(), auth: USER }));
    expect(err.message).toMatch(/TLS certificate of registry .* is not trusted.*set ca_file.*insecure_registry/);
  });

  test('WHEN insecure_registry is set THEN the unverified certificate is accepted', async () => {
    const resolved = await resolveReference({ reference: reference(), auth: USER, insecureRegistry: true });
    expect(resolved.digest).toBe(layout.manifestDigests[0]);
  });

  test('WHEN ca_file does not exist THEN the error names the file', async () => {
    const err = await rejectionOf(resolveReference({ reference: reference(), auth: USER, caFile: '/nonexistent/ca.pem' }));
    expect(err.message).toMatch(/cannot read ca_file "\/nonexistent\/ca.pem"/);
  });
});

/**
 * A front door that answers like the registry but redirects blob downloads to a separate "blob
 * store" origin, as registries backed by object storage do. The blob store records the headers it
 * receives, so the test can see that the registry credentials were not forwarded there.
 */
describe('GIVEN a registry that redirects blob downloads to another origin', () => {
  const registry = useRegistry({ basicAuth: USER });
  let front: Server;
  let blobStore: Server;
  const blobStoreHeaders: IncomingHttpHeaders[] = [];
  let frontHost: string;

  const forward = (target: string, headers: IncomingHttpHeaders, res: import('node:http').ServerResponse, path: string, method = 'GET') => {
    const upstream = httpRequest(`http://${target}${path}`, { method, headers: { ...headers, host: target } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end();
  };

  beforeAll(async () => {
    await registry().push(layout.dir, 'v1', 'redirect/app:v1');
    blobStore = createServer((req, res) => {
      blobStoreHeaders.push(req.headers);
      // The blob store has its own access to the bytes (here: the registry, with its own credentials).
      const basic = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;
      forward(registry().host, { accept: '*/*', authorization: basic }, res, req.url ?? '/');
    });
    await new Promise<void>((r) => blobStore.listen(0, '127.0.0.1', r));
    const blobStoreHost = `127.0.0.1:${(blobStore.address() as AddressInfo).port}`;
    front = createServer((req, res) => {
      if (/\/blobs\/sha256:/.test(req.url ?? '')) {
        res.writeHead(307, { location: `http://${blobStoreHost}${req.url}` }).end();
        return;
      }
      forward(registry().host, req.headers, res, req.url ?? '/', req.method);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    frontHost = `127.0.0.1:${(front.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise((r) => front?.close(r));
    await new Promise((r) => blobStore?.close(r));
  });

  test('WHEN the image is built THEN the redirect is followed, the digest verified, and no credentials leave the registry origin', async () => {
    const store = new LocalDirectoryImageStore(await mkdtemp(join(scratch, 'store-')));
    const info = await buildImage({ reference: `${frontHost}/redirect/app:v1`, auth: USER, insecureRegistry: true, workDir: scratch }, store);
    expect(info.digest).toBe(layout.manifestDigests[0]);
    expect(blobStoreHeaders.length).toBeGreaterThanOrEqual(2); // the config and the layer
    for (const headers of blobStoreHeaders) expect(headers.authorization).toBeUndefined();
  });
});
