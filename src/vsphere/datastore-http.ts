/**
 * Datastore files over HTTP: `/folder/<path>?dcPath=<datacenter>&dsName=<datastore>`, with the
 * session cookie and the client's TLS trust. Streamed both ways: uploads take a Readable and
 * downloads return one, so a multi-GB VMDK never sits in memory.
 */
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from './undici-core';
import { NotFoundError, TransientError, VimFault } from './errors';
import { DEFAULT_RETRY_POLICY, retryTransient } from './retry';
import type { VimClient } from './session';
import { moRef } from './xml';

export interface DatastoreFile {
  /** Datacenter inventory path without the leading slash, e.g. `DC0` (or `folder/DC1`). */
  readonly datacenter: string;
  /** Datastore name, e.g. `LocalDS_0`. */
  readonly datastore: string;
  /** Path inside the datastore, e.g. `vch1/images/abc/abc.vmdk`. */
  readonly path: string;
}

export interface UploadOptions {
  /** Byte length of the body; sent as Content-Length (vCenter wants it), else chunked. */
  readonly size?: number;
  readonly contentType?: string;
}

/** The `/folder` URL of a datastore file on the client's server. */
export function datastoreFileUrl(client: VimClient, file: DatastoreFile): URL {
  const url = new URL(client.url.origin);
  url.pathname = `/folder/${file.path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`;
  url.searchParams.set('dcPath', file.datacenter.replace(/^\/+/, ''));
  url.searchParams.set('dsName', file.datastore);
  return url;
}

function describe(file: DatastoreFile): string {
  return `[${file.datastore}] ${file.path} (datacenter ${file.datacenter})`;
}

function object(file: DatastoreFile) {
  return moRef('DatastoreFile', `[${file.datastore}] ${file.path}`);
}

async function send(
  client: VimClient,
  method: 'GET' | 'PUT' | 'HEAD',
  file: DatastoreFile,
  extra: { body?: Readable | Buffer | string; headers?: Record<string, string> } = {},
): Promise<Dispatcher.ResponseData> {
  const url = datastoreFileUrl(client, file);
  const headers: Record<string, string> = { ...extra.headers };
  const cookie = client.transport.sessionCookie;
  if (cookie) headers.cookie = cookie;
  client.stats.record(`HTTP ${method} /folder`);
  try {
    return await request(url, { method, headers, body: extra.body, dispatcher: client.transport.dispatcher });
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
    throw new TransientError(
      { faultName: 'ConnectionLost', method: `HTTP ${method}`, object: object(file), cause: err },
      `HTTP ${method} of ${describe(file)} failed: ${code}`,
    );
  }
}

async function failure(response: Dispatcher.ResponseData, method: string, file: DatastoreFile): Promise<VimFault> {
  const text = (await response.body.text().catch(() => '')).slice(0, 200);
  const init = { method: `HTTP ${method}`, object: object(file), serverMessage: text };
  if (response.statusCode === 404) {
    return new NotFoundError({ ...init, faultName: 'FileNotFound' }, `file ${describe(file)} not found (HTTP 404): check the datastore name and path`);
  }
  if ([502, 503, 504].includes(response.statusCode)) {
    return new TransientError(
      { ...init, faultName: `HTTP${response.statusCode}` },
      `HTTP ${method} of ${describe(file)} got ${response.statusCode}; the server is busy`,
    );
  }
  return new VimFault(
    { ...init, faultName: `HTTP${response.statusCode}` },
    `HTTP ${method} of ${describe(file)} failed with ${response.statusCode}${text ? `: ${text.trim()}` : ''}`,
  );
}

/** A body that can be sent again: a Buffer, a string, or a function that opens a fresh stream. */
export type UploadBody = Readable | Buffer | string | (() => Readable);

/**
 * Uploads (creates or overwrites) a file, streaming `body`. Parent directories are created by the
 * server. A PUT replaces the whole file, so sending it again is harmless: a transient failure (a
 * busy server, or a reply lost after the server wrote the file) is retried when the body can be
 * sent again; a bare stream cannot, and fails at once.
 */
export async function uploadDatastoreFile(client: VimClient, file: DatastoreFile, body: UploadBody, options: UploadOptions = {}): Promise<void> {
  const replayable = typeof body === 'function' || typeof body === 'string' || Buffer.isBuffer(body);
  await retryTransient(replayable ? DEFAULT_RETRY_POLICY : { ...DEFAULT_RETRY_POLICY, attempts: 1 }, async () => {
    const content = typeof body === 'function' ? body() : body;
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/octet-stream' };
    const size = options.size ?? (typeof content === 'string' ? Buffer.byteLength(content) : Buffer.isBuffer(content) ? content.length : undefined);
    if (size !== undefined) headers['content-length'] = String(size);
    try {
      const response = await send(client, 'PUT', file, { body: content, headers });
      if (response.statusCode !== 200 && response.statusCode !== 201 && response.statusCode !== 204) throw await failure(response, 'PUT', file);
      await response.body.dump();
    } finally {
      if (typeof body === 'function') (content as Readable).destroy();
    }
  });
}

/** Downloads a file as a stream; NotFoundError when it does not exist. The caller must consume or destroy the stream. */
export async function downloadDatastoreFile(client: VimClient, file: DatastoreFile): Promise<Readable> {
  const response = await send(client, 'GET', file);
  if (response.statusCode !== 200) throw await failure(response, 'GET', file);
  return response.body;
}

/** The file's size, or undefined when it does not exist (HEAD). */
export async function statDatastoreFile(client: VimClient, file: DatastoreFile): Promise<{ size: number } | undefined> {
  const response = await send(client, 'HEAD', file);
  if (response.statusCode === 404) {
    await response.body.dump();
    return undefined;
  }
  if (response.statusCode !== 200) throw await failure(response, 'HEAD', file);
  await response.body.dump();
  const length = response.headers['content-length'];
  return { size: Number(Array.isArray(length) ? length[0] : (length ?? 0)) };
}

/**
 * The bytes of a file from `start` on (HTTP Range), for following a file that grows, such as a
 * VM's console log. `size` is the file's whole length; no new bytes gives an empty buffer.
 */
export async function readDatastoreFileFrom(client: VimClient, file: DatastoreFile, start: number): Promise<{ data: Buffer; size: number }> {
  const response = await send(client, 'GET', file, start > 0 ? { headers: { range: `bytes=${start}-` } } : {});
  if (response.statusCode === 416) {
    await response.body.dump();
    const total = /\/(\d+)$/.exec(String(response.headers['content-range'] ?? ''));
    return { data: Buffer.alloc(0), size: total ? Number(total[1]) : start };
  }
  if (response.statusCode !== 200 && response.statusCode !== 206) throw await failure(response, 'GET', file);
  const data = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode === 200) return { data: start > 0 ? data.subarray(start) : data, size: data.length };
  const total = /\/(\d+)$/.exec(String(response.headers['content-range'] ?? ''));
  return { data, size: total ? Number(total[1]) : start + data.length };
}
