/**
 * A real container registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on
 * 127.0.0.1 with an ephemeral port, optionally with htpasswd basic auth, bearer-token auth (a small
 * token service of ours signs the JWTs, as a real auth server would) and TLS from a throwaway CA.
 * Images are pushed with `skopeo copy` from OCI layouts the tests write. Always stopped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeOciLayout, type ImageSpec } from './oci-layout';

const run = promisify(execFile);
const INSTALL_HINT = 'install it with "npm run setup" (or "apt-get install -y docker-registry skopeo apache2-utils openssl")';

export interface RegistryOptions {
  /** htpasswd basic auth with one user. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Bearer-token auth: our token service checks this user and issues pull/push tokens. */
  readonly tokenAuth?: { readonly username: string; readonly password: string };
  /** Serve HTTPS with a certificate from a throwaway CA (`caFile`). */
  readonly tls?: boolean;
}

export interface PushOptions {
  /** `oci` (default, digests preserved) or `v2s2` (Docker schema 2 media types). */
  readonly format?: 'oci' | 'v2s2';
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly caFile?: string;
  readonly storageDir: string;
  /** Everything the registry logged so far (one line per request, among others). */
  logs(): string;
  /** How many GET requests for blobs the registry has served so far. */
  blobGets(): number;
  push(layoutDir: string, tag: string, repositoryAndTag: string, options?: PushOptions): Promise<void>;
  /** Writes `image` as an OCI layout in the registry's own directory and pushes it. */
  pushImage(image: ImageSpec, repositoryAndTag: string, options?: PushOptions): Promise<void>;
  /** Where the registry keeps a blob's bytes (to tamper with it). */
  blobDataPath(digest: string): string;
  stop(): Promise<void>;
}

async function requireTool(name: string): Promise<void> {
  try {
    await run('sh', ['-c', `command -v ${name}`]);
  } catch {
    throw new Error(`"${name}" is not installed; ${INSTALL_HINT}`);
  }
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  for (const tool of ['docker-registry', 'skopeo', 'openssl', ...(options.basicAuth ? ['htpasswd'] : [])]) await requireTool(tool);
  const dir = await mkdtemp(join(tmpdir(), 'vic-test-registry-'));
  const storageDir = join(dir, 'data');
  const config: string[] = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    'http:',
    '  addr: 127.0.0.1:0',
    '  secret: vic-test',
  ];
  let caFile: string | undefined;
  if (options.tls) {
    caFile = await makeCertificates(dir);
    config.push('  tls:', `    certificate: ${join(dir, 'server.crt')}`, `    key: ${join(dir, 'server.key')}`);
  }
  let tokenService: TokenService | undefined;
  if (options.basicAuth) {
    const { stdout } = await run('htpasswd', ['-Bbn', options.basicAuth.username, options.basicAuth.password]);
    await writeFile(join(dir, 'htpasswd'), stdout);
    config.push('auth:', '  htpasswd:', '    realm: vic-test', `    path: ${join(dir, 'htpasswd')}`);
  } else if (options.tokenAuth) {
    tokenService = await startTokenService(dir, options.tokenAuth);
    config.push(
      'auth:',
      '  token:',
      `    realm: ${tokenService.realm}`,
      '    service: vic-test-registry',
      '    issuer: vic-test-issuer',
      `    rootcertbundle: ${tokenService.certFile}`,
    );
  }
  await writeFile(join(dir, 'config.yml'), `${config.join('\n')}\n`);

  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let host: string;
  try {
    host = await waitForListening(child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await tokenService?.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const credentials = options.basicAuth ?? options.tokenAuth;
  let stopped = false;
  let layouts = 0;
  const registry: RunningRegistry = {
    host,
    caFile,
    storageDir,
    logs: () => output,
    blobGets: () => (output.match(/"GET \/v2\/[^"]*\/blobs\/sha256:[0-9a-f]{64} /g) ?? []).length,
    blobDataPath: (digest) => {
      const hex = digest.replace(/^sha256:/, '');
      return join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    },
    async push(layoutDir, tag, repositoryAndTag, pushOptions = {}) {
      const args = ['copy', '--quiet', '--insecure-policy', '--all', '--dest-tls-verify=false'];
      if (credentials) args.push('--dest-creds', `${credentials.username}:${credentials.password}`);
      if (pushOptions.format === 'v2s2') args.push('--format', 'v2s2');
      else args.push('--preserve-digests');
      args.push(`oci:${layoutDir}:${tag}`, `docker://${host}/${repositoryAndTag}`);
      try {
        await run('skopeo', args, { timeout: 60_000 });
      } catch (err) {
        throw new Error(
          `skopeo push of ${layoutDir}:${tag} to ${host}/${repositoryAndTag} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`,
        );
      }
    },
    async pushImage(image, repositoryAndTag, pushOptions = {}) {
      const layout = await writeOciLayout(join(dir, 'layouts', String(++layouts)), 'v1', [image]);
      await registry.push(layout.dir, layout.tag, repositoryAndTag, pushOptions);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      await tokenService?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return registry;
}

/** For a describe block: starts before its tests, always stops after them. */
export function useRegistry(options: RegistryOptions = {}): () => RunningRegistry {
  let registry: RunningRegistry | undefined;
  beforeAll(async () => {
    registry = await startRegistry(options);
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
  });
  return () => {
    if (!registry) throw new Error('the test registry did not start (see the beforeAll error above)');
    return registry;
  };
}

async function waitForListening(child: ChildProcess, output: () => string): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const m = /listening on (127\.0\.0\.1:\d+)/.exec(output());
    if (m) return m[1];
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not report "listening on" within 15 s: ${output().slice(-2000)}`);
}

/** A CA and a server certificate for 127.0.0.1 signed by it; returns the CA file. */
async function makeCertificates(dir: string): Promise<string> {
  const ca = join(dir, 'ca.crt');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    '/CN=vic-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', ['req', ...ec, '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    join(dir, 'server.csr'),
    '-CA',
    ca,
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    join(dir, 'server.crt'),
    '-days',
    '2',
    '-extfile',
    join(dir, 'server.ext'),
  ]);
  return ca;
}

interface TokenService {
  readonly realm: string;
  readonly certFile: string;
  close(): Promise<void>;
}

/**
 * The Docker token protocol's auth server: GET /token?service=&scope= with basic auth answers
 * `{token}`, a JWT (RS256) whose x5c header carries the signing certificate that the registry
 * trusts through `rootcertbundle`.
 */
async function startTokenService(dir: string, user: { username: string; password: string }): Promise<TokenService> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=vic-test-token-signer',
  ]);
  const key = createPrivateKey(await readFile(keyFile));
  const certDer = new X509Certificate(await readFile(certFile)).raw;
  const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    if (url.pathname !== '/token' || auth !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const access = url.searchParams
      .getAll('scope')
      .map((s) => s.split(':'))
      .filter((p) => p.length === 3)
      .map(([type, name, actions]) => ({ type, name, actions: actions.split(',') }));
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: 'vic-test-issuer',
      sub: user.username,
      aud: url.searchParams.get('service'),
      exp: now + 600,
      nbf: now - 10,
      iat: now,
      jti: createHash('sha256').update(`${now}${Math.random()}`).digest('hex').slice(0, 16),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${signingInput}.${b64url(signature)}`, expires_in: 600 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certFile,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
