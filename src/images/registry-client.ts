/**
 * A client for the OCI distribution API (the registry side of `docker pull`): version check,
 * bearer-token and basic auth, manifests and blobs. Blobs are streamed to disk while their sha256
 * is computed, so memory stays bounded whatever the layer size, and content whose digest does not
 * match its descriptor is deleted and refused.
 *
 * Transport security: HTTPS with verified certificates by default; `caFile` pins the CA (it replaces
 * the system roots); `insecure` is the only way to get plain HTTP or an unverified certificate.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from '../vsphere/undici-core';
import { DigestMismatchError, ImageError, ManifestNotFoundError, RegistryAuthError, RegistryError } from './errors';
import { MANIFEST_ACCEPT, type Descriptor } from './manifest';
import { trustConnector } from '../vsphere/tls';

export interface RegistryCredentials {
  readonly username: string;
  /** Sent only to the registry (or its token realm) over TLS, or over plain HTTP when `insecure`. */
  readonly password: string;
}

export interface RegistryClientOptions {
  readonly credentials?: RegistryCredentials;
  /** Allow plain HTTP and unverified TLS certificates. Opt-in only. */
  readonly insecure?: boolean;
  /** A PEM file with the CA that signed the registry's certificate; replaces the system roots. */
  readonly caFile?: string;
  readonly signal?: AbortSignal;
  readonly userAgent?: string;
}

export interface FetchedManifest {
  /** sha256 of the exact bytes the registry sent. */
  readonly digest: string;
  readonly mediaType: string | undefined;
  readonly body: Buffer;
  readonly json: unknown;
}

/** Manifests are small documents; a larger one is refused rather than buffered. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const USER_AGENT = 'vic-iac';

interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Record<string, string>;
}

type Sent = Dispatcher.ResponseData;
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
type Body = string | Buffer | Readable;

export class RegistryClient {
  private origin: string | undefined;
  /** Authorization header value per token scope; `*` holds the basic-auth header. */
  private readonly authorizations = new Map<string, string>();
  private challenge: Challenge | undefined;

  private constructor(
    readonly host: string,
    private readonly options: RegistryClientOptions,
    private readonly dispatcher: Agent,
  ) {}

  static async create(host: string, options: RegistryClientOptions = {}): Promise<RegistryClient> {
    let ca: string | undefined;
    if (options.caFile) {
      try {
        ca = await readFile(options.caFile, 'utf8');
      } catch (err) {
        throw new RegistryError(
          `cannot read ca_file "${options.caFile}" for registry ${host}: ${(err as Error).message}; point ca_file at a PEM file with the registry's CA`,
        );
      }
    }
    const dispatcher = new Agent({
      // Unverified (insecure) checks no chain, not even in its https attempt before the http fallback.
      connect: trustConnector({ rejectUnauthorized: !options.insecure, timeout: 15_000 }, { ca, checksChain: !options.insecure }),
      headersTimeout: 60_000,
      bodyTimeout: 120_000,
    });
    return new RegistryClient(host, options, dispatcher);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /**
   * Whether the registry takes the credentials (docker login): its `/v2/` with them, through the
   * challenge it answers (basic, or a token from its realm, asked for no repository). A registry
   * that asks for none takes any. Refused credentials are a RegistryAuthError.
   */
  async checkLogin(): Promise<void> {
    const origin = await this.resolveOrigin();
    if (!this.challenge) return;
    const authorization = await this.authorize(this.challenge, '', 'docker login');
    const res = await this.sendFollowing('GET', new URL('/v2/', origin), {}, authorization);
    await res.body.dump();
    if (res.statusCode === 401 || res.statusCode === 403) throw this.rejected('docker login');
    if (res.statusCode !== 200) throw new RegistryError(`${origin}/v2/ answered HTTP ${res.statusCode} to docker login`, { status: res.statusCode });
  }

  /** GET a manifest (or index) by tag or digest; its digest is computed from the bytes received. */
  async fetchManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const where = `${this.host}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const res = await this.send('GET', `/v2/${repository}/manifests/${reference}`, repository, { accept: MANIFEST_ACCEPT });
    if (res.statusCode === 404) {
      const detail = await errorDetail(res);
      throw new ManifestNotFoundError(
        `${reference.startsWith('sha256:') ? 'digest' : 'tag'} "${reference}" not found in repository "${repository}" on registry ${this.host}${detail}; check the reference (is it pushed? is the tag spelled right?)`,
      );
    }
    await this.expectOk(res, `fetching manifest ${where}`);
    const body = await readBounded(res, MAX_MANIFEST_BYTES, `manifest ${where}`);
    const digest = sha256Digest(body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new DigestMismatchError(`manifest ${where}: the registry sent content with digest ${digest}; refusing it`);
    }
    const announced = headerValue(res.headers['docker-content-digest']);
    if (announced?.startsWith('sha256:') && announced !== digest) {
      throw new DigestMismatchError(`manifest ${where}: the registry announced digest ${announced} but sent content with digest ${digest}; refusing it`);
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryError(`manifest ${where} is not JSON (${body.length} bytes); is ${this.host} a container registry?`);
    }
    return { digest, mediaType: headerValue(res.headers['content-type'])?.split(';')[0].trim(), body, json };
  }

  /** Fetches a small blob (an image config) into memory, verified. */
  async fetchSmallBlob(repository: string, descriptor: Descriptor, maxBytes = MAX_MANIFEST_BYTES): Promise<Buffer> {
    if (descriptor.size > maxBytes) {
      throw new RegistryError(
        `blob ${descriptor.digest} in ${this.host}/${repository} is ${descriptor.size} bytes, over the ${maxBytes}-byte limit for configs`,
      );
    }
    const res = await this.openBlob(repository, descriptor);
    const body = await readBounded(res, descriptor.size, `blob ${descriptor.digest}`, () => this.sizeMismatch(repository, descriptor));
    const digest = sha256Digest(body);
    if (digest !== descriptor.digest || body.length !== descriptor.size) throw this.digestMismatch(repository, descriptor, digest, body.length);
    return body;
  }

  /**
   * Streams a blob into `destination`, hashing as it goes. On a digest or size mismatch the file is
   * deleted and DigestMismatchError thrown: unverified bytes never reach a filesystem we build.
   */
  async downloadBlob(repository: string, descriptor: Descriptor, destination: string, onBytes?: (bytes: number) => void): Promise<void> {
    const res = await this.openBlob(repository, descriptor);
    const announced = Number(headerValue(res.headers['content-length']) ?? NaN);
    if (Number.isFinite(announced) && announced !== descriptor.size) {
      res.body.destroy();
      throw this.digestMismatch(repository, descriptor, undefined, announced);
    }
    const hash = createHash('sha256');
    let received = 0;
    const verify = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        received += chunk.length;
        if (received > descriptor.size) {
          done(this.sizeMismatch(repository, descriptor));
          return;
        }
        hash.update(chunk);
        onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res.body, verify, createWriteStream(destination, { flags: 'w', mode: 0o600 }), { signal: this.options.signal });
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== descriptor.digest || received !== descriptor.size) throw this.digestMismatch(repository, descriptor, digest, received);
    } catch (err) {
      await rm(destination, { force: true });
      if (ImageError.isImageError(err) || (err as Error).name === 'AbortError') throw err;
      throw new RegistryError(
        `downloading blob ${descriptor.digest} from ${this.host}/${repository} failed after ${received} of ${descriptor.size} bytes: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** A blob's bytes as the registry sends them (docker push reads them here to send them elsewhere). */
  async readBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    return (await this.openBlob(repository, descriptor)).body;
  }

  /** Whether `repository` holds the blob (asked with push rights, as a push asks before it sends one). */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, repository, {}, {});
    await res.body.dump();
    if (res.statusCode === 404) return false;
    await this.expectOk(res, `checking blob ${digest} in ${this.host}/${repository}`, 'push');
    return true;
  }

  /**
   * Asks the registry to link a blob it holds in `from` into `repository` (a cross-repository
   * mount): true when it did; false when it opened an upload instead (it does not hold the blob
   * there, or mounts nothing), which the caller then makes itself.
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const path = `/v2/${repository}/blobs/uploads/?${new URLSearchParams({ mount: digest, from }).toString()}`;
    const res = await this.send('POST', path, repository, { 'content-length': '0' }, { body: () => '' });
    await res.body.dump();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // An upload it opened instead: closed again, as the caller opens its own.
      const location = headerValue(res.headers.location);
      if (location)
        await this.send('DELETE', location, repository, {}, {}).then(
          (r) => r.body.dump(),
          () => undefined,
        );
      return false;
    }
    await this.expectOk(res, `mounting blob ${digest} from ${from} into ${this.host}/${repository}`, 'push');
    return false;
  }

  /**
   * Uploads a blob into `repository` in one request (POST to open the upload, PUT with the content
   * and its digest); the registry checks the digest. `content` is asked for once per attempt.
   */
  async uploadBlob(repository: string, descriptor: Descriptor, content: () => Promise<Readable>): Promise<void> {
    const opened = await this.send('POST', `/v2/${repository}/blobs/uploads/`, repository, { 'content-length': '0' }, { body: () => '' });
    await opened.body.dump();
    if (opened.statusCode !== 202) await this.expectOk(opened, `opening an upload of blob ${descriptor.digest} to ${this.host}/${repository}`, 'push');
    const location = headerValue(opened.headers.location);
    if (!location) throw new RegistryError(`registry ${this.host} opened an upload to ${repository} without saying where (no Location header)`);
    const url = new URL(location, await this.resolveOrigin());
    url.searchParams.set('digest', descriptor.digest);
    const body = await content();
    const res = await this.send(
      'PUT',
      url,
      repository,
      { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
      { body: () => body },
    );
    await res.body.dump();
    await this.expectOk(res, `uploading blob ${descriptor.digest} to ${this.host}/${repository}`, 'push');
  }

  /** Puts a manifest under a tag of `repository`, as its bytes are (so its digest stays); the digest the registry gives it. */
  async putManifest(repository: string, tag: string, body: Buffer, mediaType: string): Promise<string> {
    const res = await this.send('PUT', `/v2/${repository}/manifests/${tag}`, repository, { 'content-type': mediaType }, { body: () => body });
    await res.body.dump();
    await this.expectOk(res, `putting the manifest of ${this.host}/${repository}:${tag}`, 'push');
    return headerValue(res.headers['docker-content-digest']) ?? sha256Digest(body);
  }

  private async openBlob(repository: string, descriptor: Descriptor): Promise<Sent> {
    const res = await this.send('GET', `/v2/${repository}/blobs/${descriptor.digest}`, repository, {});
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new RegistryError(
        `blob ${descriptor.digest} is missing from ${this.host}/${repository} although its manifest lists it; the registry is inconsistent (re-push the image)`,
        { status: 404 },
      );
    }
    await this.expectOk(res, `fetching blob ${descriptor.digest} from ${this.host}/${repository}`);
    return res;
  }

  private digestMismatch(repository: string, descriptor: Descriptor, digest: string | undefined, size: number): DigestMismatchError {
    const got = digest ? `content with digest ${digest} (${size} bytes)` : `${size} bytes`;
    return new DigestMismatchError(
      `blob ${descriptor.digest} (${descriptor.size} bytes) from ${this.host}/${repository}: received ${got}; refusing it. The registry's copy is corrupt or was tampered with; re-push the image`,
    );
  }

  private sizeMismatch(repository: string, descriptor: Descriptor): DigestMismatchError {
    return new DigestMismatchError(
      `blob ${descriptor.digest} from ${this.host}/${repository}: the registry sent more than the ${descriptor.size} bytes its descriptor announces; refusing it`,
    );
  }

  private async expectOk(res: Sent, what: string, permission: 'pull' | 'push' = 'pull'): Promise<void> {
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const detail = await errorDetail(res);
    if (res.statusCode === 401 || res.statusCode === 403) {
      const user = this.options.credentials ? `user "${this.options.credentials.username}"` : 'anonymous access';
      const check = permission === 'push' ? 'log in to it (docker login) as a user who may push there' : "check registry_auth and the user's pull permission";
      throw new RegistryAuthError(`registry ${this.host} denied ${what} to ${user} (HTTP ${res.statusCode})${detail}; ${check}`);
    }
    throw new RegistryError(`registry ${this.host} answered HTTP ${res.statusCode} to ${what}${detail}`, {
      status: res.statusCode,
      unreachable: res.statusCode >= 500 || res.statusCode === 429,
    });
  }

  /**
   * Sends a request to the registry, authenticating on a 401 challenge (once per scope) and
   * following redirects. Authorization is only sent to the registry's own origin: a redirect to a
   * blob store elsewhere gets none.
   */
  private async send(method: Method, path: string | URL, repository: string, headers: Record<string, string>, push?: { body?: () => Body }): Promise<Sent> {
    const origin = await this.resolveOrigin();
    const scope = `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
    const what = `${push ? 'pushing to' : 'pulling from'} ${this.host}/${repository}`;
    const url = new URL(path, origin);
    let res = await this.sendFollowing(method, url, headers, this.authorizationFor(scope), push?.body?.());
    if (res.statusCode === 401) {
      const challenge = parseChallenge(headerValue(res.headers['www-authenticate']));
      await res.body.dump();
      const authorization = await this.authorize(challenge, scope, what);
      // A body is sent again only when it can be made again (a stream is read once: its sender asks anew).
      res = await this.sendFollowing(method, url, headers, authorization, push?.body?.());
      if (res.statusCode === 401) {
        await res.body.dump();
        throw this.rejected(what);
      }
    }
    return res;
  }

  private authorizationFor(scope: string): string | undefined {
    return this.authorizations.get(scope) ?? this.authorizations.get('*');
  }

  private async sendFollowing(method: Method, url: URL, headers: Record<string, string>, authorization: string | undefined, body?: Body): Promise<Sent> {
    const registryOrigin = url.origin;
    let target = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = target.origin === registryOrigin;
      let res: Sent;
      try {
        res = await request(target, {
          method,
          dispatcher: this.dispatcher,
          signal: this.options.signal,
          headers: { 'user-agent': this.options.userAgent ?? USER_AGENT, ...headers, ...(authorization && sameOrigin ? { authorization } : {}) },
          ...(body !== undefined ? { body } : {}),
        });
      } catch (err) {
        throw this.transportError(err, target);
      }
      const location = headerValue(res.headers.location);
      if (res.statusCode >= 300 && res.statusCode < 400 && location) {
        await res.body.dump();
        // What was sent is gone with the request: a push is not carried to another place.
        if (body !== undefined)
          throw new RegistryError(`registry ${this.host} redirected ${method} ${url.pathname} to ${location}; a push is not followed there`);
        const next = new URL(location, target);
        if (next.protocol === 'http:' && !this.options.insecure) {
          throw new RegistryError(`registry ${this.host} redirected to plain-HTTP ${next.origin}; refusing (set insecure_registry to allow it)`);
        }
        target = next;
        continue;
      }
      return res;
    }
    throw new RegistryError(`registry ${this.host} redirected more than ${MAX_REDIRECTS} times for ${url.pathname}`);
  }

  /** Picks https or (only when insecure) http, by the `/v2/` version check, and learns the auth challenge. */
  private async resolveOrigin(): Promise<string> {
    if (this.origin) return this.origin;
    const schemes = this.options.insecure ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const origin = `${scheme}://${this.host}`;
      let res: Sent;
      try {
        res = await request(`${origin}/v2/`, {
          method: 'GET',
          dispatcher: this.dispatcher,
          signal: this.options.signal,
          headers: { 'user-agent': this.options.userAgent ?? USER_AGENT },
        });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        lastError = err;
        continue;
      }
      await res.body.dump();
      if (res.statusCode === 401) this.challenge = parseChallenge(headerValue(res.headers['www-authenticate']));
      else if (res.statusCode !== 200) {
        throw new RegistryError(`${origin}/v2/ answered HTTP ${res.statusCode}; is ${this.host} an OCI registry?`, {
          status: res.statusCode,
          unreachable: res.statusCode >= 500,
        });
      }
      this.origin = origin;
      return origin;
    }
    throw this.transportError(lastError, new URL(`https://${this.host}/v2/`), schemes.length > 1 ? `https://${this.host} and http://${this.host}` : undefined);
  }

  private async authorize(challenge: Challenge | undefined, scope: string, what: string): Promise<string> {
    const effective = challenge ?? this.challenge;
    const creds = this.options.credentials;
    if (!effective) throw new RegistryAuthError(`registry ${this.host} refused ${what} (HTTP 401) without saying how to authenticate`);
    if (effective.scheme === 'basic') {
      if (!creds) throw new RegistryAuthError(`registry ${this.host} requires credentials for ${what}; set registry_auth { username, password }`);
      const value = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      this.authorizations.set('*', value);
      return value;
    }
    const token = await this.fetchToken(effective, scope, what);
    const value = `Bearer ${token}`;
    this.authorizations.set(scope, value);
    return value;
  }

  // Docker token protocol: GET <realm>?service=<service>&scope=<scope>, basic-authenticated when
  // we have credentials; the JSON answer carries `token` (or the OAuth name `access_token`).
  private async fetchToken(challenge: Challenge, scope: string, what: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryAuthError(`registry ${this.host} asked for a bearer token without a realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    // A login asks for no repository's scope.
    const asked = challenge.params.scope ?? scope;
    // A challenge may name several scopes, space-separated (a push that mounts a blob from another
    // repository: that one's pull too); the token service takes each as its own `scope` parameter.
    for (const one of asked.split(' ').filter(Boolean)) url.searchParams.append('scope', one);
    const creds = this.options.credentials;
    if (creds && url.protocol !== 'https:' && !this.options.insecure) {
      throw new RegistryAuthError(
        `registry ${this.host} sends its token realm over plain HTTP (${url.origin}); refusing to send credentials there (set insecure_registry to allow it)`,
      );
    }
    let res: Sent;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher: this.dispatcher,
        signal: this.options.signal,
        headers: {
          'user-agent': this.options.userAgent ?? USER_AGENT,
          ...(creds ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` } : {}),
        },
      });
    } catch (err) {
      throw this.transportError(err, url);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw this.rejected(what);
    }
    if (res.statusCode !== 200) {
      const detail = await errorDetail(res);
      throw new RegistryAuthError(`token service ${url.origin}${url.pathname} for registry ${this.host} answered HTTP ${res.statusCode}${detail}`);
    }
    const body = await readBounded(res, 1024 * 1024, `token from ${url.origin}`);
    const doc = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
    const token = doc.token ?? doc.access_token;
    if (!token) throw new RegistryAuthError(`token service ${url.origin}${url.pathname} for registry ${this.host} returned no token`);
    return token;
  }

  private rejected(what: string): RegistryAuthError {
    const creds = this.options.credentials;
    if (what.startsWith('pushing'))
      return new RegistryAuthError(
        creds
          ? `registry ${this.host} rejected the credentials of user "${creds.username}" for ${what}: wrong user name or password, or no push permission; log in again (docker login ${this.host})`
          : `registry ${this.host} requires credentials for ${what}; log in first (docker login ${this.host})`,
      );
    return creds
      ? new RegistryAuthError(
          `registry ${this.host} rejected the credentials of user "${creds.username}" for ${what}: wrong user name or password, or no pull permission; check registry_auth`,
        )
      : new RegistryAuthError(`registry ${this.host} requires credentials for ${what}; set registry_auth { username, password }`);
  }

  /** A request that got no answer, as a RegistryError that says why; `tried` names every origin asked, when more than `url`'s. */
  private transportError(err: unknown, url: URL, tried?: string): Error {
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'AbortError') return e;
    const code = e?.code ?? e?.cause?.code ?? '';
    const message = e?.cause?.message ?? e?.message ?? String(err);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code) || /certificate/i.test(message)) {
      return new RegistryError(
        `TLS certificate of registry ${this.host} (${url.origin}) is not trusted: ${message}; set ca_file to the PEM of the CA that signed it, or insecure_registry = true to skip verification`,
        { cause: err },
      );
    }
    const tlsMismatch = /wrong version number|packet length too long|EPROTO/i.exec(`${message} ${code}`);
    if (tlsMismatch) {
      return new RegistryError(`registry ${this.host} does not speak TLS (${tlsMismatch[0]}); if it serves plain HTTP, set insecure_registry = true`, {
        cause: err,
      });
    }
    return new RegistryError(`cannot reach registry ${this.host} at ${tried ?? url.origin}: ${code ? `${code} ` : ''}${message}`, {
      cause: err,
      unreachable: true,
    });
  }
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme, params };
}

/** Reads a response body into memory, failing past `limit` bytes instead of growing without bound. */
async function readBounded(res: Sent, limit: number, what: string, tooLarge?: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      res.body.destroy();
      throw tooLarge ? tooLarge() : new RegistryError(`${what} is larger than ${limit} bytes; refusing to buffer it`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The registry's error JSON (`{errors:[{code,message}]}`) as a short suffix for messages. */
async function errorDetail(res: Sent): Promise<string> {
  let text = '';
  try {
    text = (await readBounded(res, 16 * 1024, 'error body')).toString('utf8');
  } catch {
    return '';
  }
  try {
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const parts = (doc.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).filter(Boolean);
    return parts.length ? ` (${parts.join('; ')})` : '';
  } catch {
    return '';
  }
}
