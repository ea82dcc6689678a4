/**
 * The Docker Engine API's wire rules that do not depend on vSphere: versions, errors, the
 * multiplexed stream framing, filters and the human Status strings of `docker ps`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The API version served. The docker CLI uses the lower of its own and this one; 29.0–29.2 refuse
 * servers below 1.44, and 20.10 clients (1.41) still negotiate down from it.
 */
export const API_VERSION = '1.45';
/** The oldest version a client may ask for, as in dockerd. */
export const MIN_API_VERSION = '1.24';

export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** An error as the API returns it: `{"message": …}` with Docker's status code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
export const badRequest = (message: string) => new ApiError(400, message);

/** What vic-iac does not do, answered at once with what to use instead. */
export function notSupported(what: string, instead: string): ApiError {
  return new ApiError(501, `${what} is not supported by vic-iac: ${instead}`);
}

/** A path with its optional `/v1.xx` prefix taken off. */
export interface ApiPath {
  readonly version?: string;
  readonly path: string;
  readonly query: URLSearchParams;
}

export function parseApiPath(url: string): ApiPath {
  const u = new URL(url, 'http://endpoint');
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(u.pathname);
  if (!m) return { path: u.pathname, query: u.searchParams };
  if (compareVersions(m[1], MIN_API_VERSION) < 0 || compareVersions(m[1], API_VERSION) > 0) {
    throw badRequest(`client version ${m[1]} is not supported by this endpoint: it serves API versions ${MIN_API_VERSION} to ${API_VERSION}`);
  }
  return { version: m[1], path: m[2], query: u.searchParams };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // 304 carries no body by HTTP's rules; the CLI reads the status alone.
  if (err.status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  sendJson(res, err.status, { message: err.message });
}

export async function readJsonBody<T>(req: IncomingMessage, maxBytes = 1 << 20): Promise<T | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw badRequest(`request body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch (err) {
    throw badRequest(`request body is not JSON: ${(err as Error).message}`);
  }
}

/** Docker's stream numbers in the 8-byte frame header of logs and attach without a TTY. */
export const STREAM = { stdout: 1, stderr: 2, system: 3 } as const;

/** `[stream, 0, 0, 0, size as uint32 big-endian]`, then the payload. */
export function frame(stream: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/**
 * A boolean query parameter as dockerd reads one: absent, empty, `0`, `no`, `false` or `none` (in
 * any case) is false, anything else true. docker-py sends Python's `True` and `False`
 * (`remove(force=True)`, `stats(stream=False)`), the docker CLI `1` and `0`.
 */
export function queryFlag(query: URLSearchParams, key: string): boolean {
  const value = (query.get(key) ?? '').trim().toLowerCase();
  return !['', '0', 'no', 'false', 'none'].includes(value);
}

/** Filters arrive as `{"name":{"web":true}}` (and, from old clients, `{"name":["web"]}`). */
export function parseFilters(text: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!text) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`filters: not JSON: ${text}`);
  }
  if (!parsed || typeof parsed !== 'object') throw badRequest(`filters: expected a JSON object, got ${text}`);
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (v && typeof v === 'object')
      out.set(
        k,
        Object.keys(v as object).filter((x) => (v as Record<string, unknown>)[x] !== false),
      );
    else throw badRequest(`filters: "${k}" must map to values, got ${JSON.stringify(v)}`);
  }
  return out;
}

/** go-units HumanDuration, which `docker ps` shows: "Less than a second", "3 seconds", "About a minute"… */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const min = Math.floor(s / 60);
  if (min === 1) return 'About a minute';
  if (min < 60) return `${min} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** Seconds since the epoch of an RFC 3339 time; 0 for none. */
export function unixSeconds(time: unknown): number {
  if (typeof time !== 'string' || time === '') return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Docker's zero time, which inspect shows for a time that never was. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
