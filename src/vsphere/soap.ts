/**
 * The SOAP transport: one HTTP round trip per vim25 call, the session cookie, keep-alive, TLS
 * trust, instrumentation, and the translation of HTTP/network failures and SOAP faults into typed
 * errors. It knows nothing about sessions beyond carrying the cookie (see session.ts).
 *
 * Two undici Agents: ordinary calls, and a long-timeout one for WaitForUpdatesEx. Node's global
 * agent drops keep-alive sockets after 5 s, which killed long WaitForUpdatesEx calls.
 */
import { StringDecoder } from 'node:string_decoder';
import { Agent, type Dispatcher } from './undici-core';
import { InvalidArgumentError, TlsVerificationError, TransientError, VimFault, faultFromName, formatMoRef } from './errors';
import { TlsTrustError, trustingConnector, type TlsTrust } from './tls';
import { SoapResponseReader, decodeSoapFault, encodeEnvelope, encodeMethodCall, type ManagedObjectReference, type SoapResponse, type TypeHint } from './xml';

/** One line of the debug log. Never carries credentials: request XML is redacted before it is built. */
export interface SoapLogEvent {
  readonly method: string;
  readonly object: string;
  readonly status?: number;
  readonly durationMs: number;
  readonly attempt?: number;
  /** Redacted request body, present only when `logBodies` is set. */
  readonly requestXml?: string;
  readonly error?: string;
}
export type SoapLogger = (event: SoapLogEvent) => void;

/** SOAP round trips per method, so callers can assert that a batched read costs O(1) calls. */
export class SoapStats {
  private readonly counts = new Map<string, number>();
  private totalCount = 0;

  record(method: string): void {
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
    this.totalCount++;
  }
  /** Round trips so far for `method` (retries count: each is a round trip). */
  calls(method: string): number {
    return this.counts.get(method) ?? 0;
  }
  get total(): number {
    return this.totalCount;
  }
  /** A copy of the per-method counts. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
  reset(): void {
    this.counts.clear();
    this.totalCount = 0;
  }
}

export interface SoapTransportOptions {
  readonly trust: TlsTrust;
  /** Timeout for ordinary calls (headers and body), default 5 minutes. */
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** vim25 version for SOAPAction; vCenter dispatches on it, vcsim ignores it. */
  readonly apiVersion?: string;
  readonly userAgent?: string;
  readonly log?: SoapLogger;
  /** Include the (redacted) request XML in log events. */
  readonly logBodies?: boolean;
  /** Strings that must never reach a log line or an error message (the password). */
  readonly secrets?: () => readonly string[];
}

export interface RoundTripOptions {
  /** Decode hint for `returnval` (a vim25 type name or scalar kind, `[]` for arrays). */
  readonly returns?: TypeHint;
  /** Use the long-timeout connection (WaitForUpdatesEx); `timeoutMs` bounds it. */
  readonly long?: boolean;
  readonly timeoutMs?: number;
  readonly attempt?: number;
}

const SESSION_COOKIE = 'vmware_soap_session';

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function redactXml(xml: string, secrets: readonly string[]): string {
  let out = xml.replace(/<password>[\s\S]*?<\/password>/g, '<password>***</password>');
  for (const secret of secrets) if (secret) out = out.split(secret).join('***');
  return out;
}

export class SoapTransport {
  readonly url: URL;
  readonly stats = new SoapStats();
  /** The dispatcher for ordinary calls and datastore HTTP (same TLS trust, keep-alive). */
  readonly dispatcher: Agent;
  private readonly longDispatcher: Agent;
  private cookie: string | undefined;
  private connectedOnce = false;
  private readonly requestTimeoutMs: number;

  constructor(
    url: URL,
    private readonly options: SoapTransportOptions,
  ) {
    this.url = url;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5 * 60_000;
    const connect = trustingConnector(options.trust, options.connectTimeoutMs ?? 10_000);
    this.dispatcher = new Agent({
      connect,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 10 * 60_000,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
    });
    // Timeouts for WaitForUpdatesEx are set per request from maxWaitSeconds.
    this.longDispatcher = new Agent({
      connect,
      connections: 4,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 30 * 60_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** The `Cookie` header value of the current session, if logged in. */
  get sessionCookie(): string | undefined {
    return this.cookie;
  }
  clearSession(): void {
    this.cookie = undefined;
  }

  /** Sends one vim25 call and returns the decoded `returnval` (throws typed errors). */
  async call(method: string, thisRef: ManagedObjectReference, args: Record<string, unknown>, options: RoundTripOptions = {}): Promise<unknown> {
    return (await this.roundTrip(method, thisRef, encodeMethodCall(method, thisRef, args), options)).returnValue;
  }

  /** Sends one SOAP body and returns the response: its SOAP Body and its return value, decoded with `options.returns`. */
  async roundTrip(method: string, thisRef: ManagedObjectReference, bodyXml: string, options: RoundTripOptions = {}): Promise<SoapResponse> {
    const object = formatMoRef(thisRef);
    const started = Date.now();
    const secrets = this.options.secrets?.() ?? [];
    const log = (status: number | undefined, error?: string): void => {
      this.options.log?.({
        method,
        object,
        status,
        durationMs: Date.now() - started,
        attempt: options.attempt,
        requestXml: this.options.logBodies ? redactXml(bodyXml, secrets) : undefined,
        error: error === undefined ? undefined : redactXml(error, secrets),
      });
    };
    const headers: Record<string, string> = {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `urn:vim25/${this.options.apiVersion ?? '6.5'}`,
      'user-agent': this.options.userAgent ?? 'vic-iac',
    };
    if (this.cookie) headers.cookie = this.cookie;
    const timeout = options.long ? (options.timeoutMs ?? this.requestTimeoutMs) : undefined;

    this.stats.record(method);
    let response: Dispatcher.ResponseData;
    // The start of the response, for messages; a SOAP response is read as it streams in, never held whole.
    let head: string;
    let parsed: SoapResponse | undefined;
    try {
      // Straight to the agent: the top-level request() re-parses the URL on every call.
      response = await (options.long ? this.longDispatcher : this.dispatcher).request({
        origin: this.url.origin,
        path: this.url.pathname + this.url.search,
        method: 'POST',
        headers,
        body: encodeEnvelope(bodyXml),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      this.connectedOnce = true;
      ({ head, parsed } = await readResponse(response, options.returns));
    } catch (err) {
      const failure = this.networkFailure(err, method, thisRef);
      log(undefined, failure.message);
      throw failure;
    }
    this.captureCookie(response.headers['set-cookie']);
    const status = response.statusCode;

    if (status === 502 || status === 503 || status === 504) {
      log(status, `HTTP ${status}`);
      throw new TransientError(
        { faultName: `HTTP${status}`, method, object: thisRef, serverMessage: head },
        `${method} on ${object} got HTTP ${status} from ${this.url.host}; the server is busy or restarting`,
      );
    }
    if (!parsed) {
      log(status, `unexpected response`);
      throw new VimFault(
        { faultName: `HTTP${status}`, method, object: thisRef, serverMessage: head },
        `${method} on ${object}: ${this.url.host} answered HTTP ${status} without a SOAP envelope (${JSON.stringify(head.slice(0, 120))}); is ${this.url.href} a vSphere SDK endpoint?`,
      );
    }
    const fault = decodeSoapFault(parsed.body);
    if (fault) {
      log(status, fault.faultName);
      throw faultFromName({
        faultName: fault.faultName,
        method,
        object: thisRef,
        serverMessage: redactXml(fault.faultString, secrets) || undefined,
        detail: fault.detail,
      });
    }
    log(status);
    return parsed;
  }

  private captureCookie(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const pair = line.split(';', 1)[0].trim();
      if (pair.startsWith(`${SESSION_COOKIE}=`)) this.cookie = pair;
    }
  }

  private networkFailure(err: unknown, method: string, thisRef: ManagedObjectReference): VimFault {
    const object = formatMoRef(thisRef);
    const tlsRefusal = findCause(err, (e) => e instanceof TlsTrustError) as TlsTrustError | undefined;
    if (tlsRefusal) {
      return new TlsVerificationError({ faultName: 'TlsVerification', method, object: thisRef, cause: err }, `${method} on ${object}: ${tlsRefusal.message}`);
    }
    const code = errorCode(err);
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new TlsVerificationError({ faultName: 'TlsVerification', method, object: thisRef, cause: err }, `${method} on ${object}: TLS failed with ${code}`);
    }
    const what = code ?? (err instanceof Error ? err.message : String(err));
    // A refused connection before we ever connected is a wrong URL, not a hiccup.
    if (code === 'ECONNREFUSED' && !this.connectedOnce) {
      return new VimFault(
        { faultName: 'ConnectionRefused', method, object: thisRef, cause: err },
        `${method} on ${object}: connection to ${this.url.host} refused; check the server address and that vSphere (or the simulator) is running`,
      );
    }
    if ((code && TRANSIENT_CODES.has(code)) || code === 'ECONNREFUSED' || /socket hang up|other side closed/i.test(what)) {
      return new TransientError(
        { faultName: 'ConnectionLost', method, object: thisRef, cause: err },
        `${method} on ${object}: connection to ${this.url.host} failed (${what})`,
      );
    }
    if (code === 'UND_ERR_INVALID_ARG') {
      return new InvalidArgumentError({ faultName: 'InvalidArgument', method, object: thisRef, cause: err }, `${method} on ${object}: ${what}`);
    }
    return new VimFault(
      { faultName: 'TransportError', method, object: thisRef, cause: err },
      `${method} on ${object}: request to ${this.url.host} failed (${what})`,
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.longDispatcher.close()]).catch(() => undefined);
    await Promise.all([this.dispatcher.destroy(), this.longDispatcher.destroy()]).catch(() => undefined);
  }
}

const HEAD_CHARS = 200;

/**
 * Reads a response body: a SOAP response (HTTP 200 or 500) through SoapResponseReader as its chunks
 * arrive, anything else as text. `parsed` is unset when the body is no SOAP envelope.
 */
async function readResponse(response: Dispatcher.ResponseData, returns: TypeHint | undefined): Promise<{ head: string; parsed?: SoapResponse }> {
  if (response.statusCode !== 200 && response.statusCode !== 500) return { head: (await response.body.text()).slice(0, HEAD_CHARS) };
  const reader = new SoapResponseReader(returns);
  // Keeps a character whose UTF-8 bytes two chunks split until its last byte arrives.
  const utf8 = new StringDecoder('utf8');
  let head = '';
  let malformed = false;
  const take = (chunk: string): void => {
    if (head.length < HEAD_CHARS) head += chunk.slice(0, HEAD_CHARS - head.length);
    if (malformed) return;
    try {
      reader.write(chunk);
    } catch {
      malformed = true;
    }
  };
  for await (const bytes of response.body as AsyncIterable<Buffer>) take(utf8.write(bytes));
  take(utf8.end());
  if (malformed) return { head };
  try {
    return { head, parsed: reader.end() };
  } catch {
    return { head };
  }
}

function findCause(err: unknown, match: (e: unknown) => boolean): unknown {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (match(e)) return e;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  const found = findCause(err, (e) => typeof (e as { code?: unknown }).code === 'string') as { code: string } | undefined;
  return found?.code;
}
