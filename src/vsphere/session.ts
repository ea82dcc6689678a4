/**
 * The vSphere session: `VimClient.connect()` logs in; `client.call()` runs one vim25 method with
 * one transparent re-login on NotAuthenticated and bounded retries of transient failures.
 *
 * Credentials live only in this object. They never enter a log line or an error message: the
 * transport redacts `<password>` and the password string itself from everything it reports.
 */
import { InvalidLoginError, NotAuthenticatedError, VimFault, isNotAuthenticated, type VimFaultInit } from './errors';
import { DEFAULT_RETRY_POLICY, retryTransient, type RetryPolicy } from './retry';
import { SoapTransport, type SoapStats, type SoapTransportOptions } from './soap';
import { DEFAULT_TASK_TIMEOUT_MS, currentCancellation } from './tasks';
import type { TlsTrust } from './tls';
import { moRef, type ManagedObjectReference, type TypeHint } from './xml';

/** Transport settings (timeouts, API version, the debug log hook that never sees credentials) plus who and where. */
export interface VimClientOptions
  extends TlsTrust, Pick<SoapTransportOptions, 'requestTimeoutMs' | 'connectTimeoutMs' | 'apiVersion' | 'userAgent' | 'log' | 'logBodies'> {
  /** `https://vcenter.example.com/sdk` (the `/sdk` path is added when missing). */
  readonly url: string | URL;
  readonly username: string;
  readonly password: string;
  readonly retry?: Partial<RetryPolicy>;
  /** The deadline of every task wait that sets none, in ms; default DEFAULT_TASK_TIMEOUT_MS. */
  readonly taskTimeoutMs?: number;
}

/** The parts of ServiceContent this client uses. */
export interface ServiceContent {
  readonly rootFolder: ManagedObjectReference;
  readonly propertyCollector: ManagedObjectReference;
  readonly viewManager: ManagedObjectReference;
  readonly sessionManager: ManagedObjectReference;
  readonly searchIndex: ManagedObjectReference;
  readonly fileManager?: ManagedObjectReference;
  readonly virtualDiskManager?: ManagedObjectReference;
  readonly customFieldsManager?: ManagedObjectReference;
  readonly taskManager?: ManagedObjectReference;
  readonly about: { readonly apiType?: string; readonly apiVersion?: string; readonly fullName?: string; readonly instanceUuid?: string };
}

export interface UserSession {
  readonly key: string;
  readonly userName: string;
}

export interface CallOptions {
  /** Decode hint for the return value (vim25 type name or scalar kind; `[]` = array). */
  readonly returns?: TypeHint;
  /** Use the long-timeout connection (WaitForUpdatesEx). */
  readonly long?: boolean;
  readonly timeoutMs?: number;
  /**
   * Inspects the decoded result and may throw (e.g. NotAuthenticated found in a missingSet, which
   * vcsim reports there instead of faulting); a NotAuthenticated thrown here also triggers re-login.
   */
  readonly inspect?: (result: unknown) => void;
  /**
   * false: a transient failure is not retried. For calls that create and have no natural guard
   * against a second run (CreateVM_Task: vcsim does not refuse a duplicate name), whose reply may
   * be lost after the server acted: the caller looks for what was made before trying again.
   */
  readonly retry?: boolean;
}

const SERVICE_INSTANCE = moRef('ServiceInstance', 'ServiceInstance');

/** Splits `https://user:pass@host/sdk` into a credential-free URL ending in /sdk. */
export function normalizeSdkUrl(url: string | URL): URL {
  const parsed = new URL(url.toString());
  parsed.username = '';
  parsed.password = '';
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/sdk';
  return parsed;
}

/** A URL password as written and percent-decoded (a stray "%" cannot be decoded). */
function passwordForms(text: string): string[] {
  if (!text) return [];
  try {
    return [text, decodeURIComponent(text)];
  } catch {
    return [text];
  }
}

export class VimClient {
  readonly url: URL;
  readonly serviceContent: ServiceContent;
  readonly transport: SoapTransport;
  /** The deadline of every task wait that sets none (tasks.ts). */
  readonly taskTimeoutMs: number;
  private readonly retryPolicy: RetryPolicy;
  private relogin: Promise<void> | undefined;
  private sessionGenerationCounter = 0;
  private closed = false;

  private constructor(
    transport: SoapTransport,
    serviceContent: ServiceContent,
    private readonly username: string,
    private readonly password: string,
    retryPolicy: RetryPolicy,
    taskTimeoutMs: number,
  ) {
    this.transport = transport;
    this.taskTimeoutMs = taskTimeoutMs;
    this.url = transport.url;
    this.serviceContent = serviceContent;
    this.retryPolicy = retryPolicy;
  }

  /** Connects, reads the ServiceContent and logs in. Throws InvalidLoginError with a clear message on bad credentials. */
  static async connect(options: VimClientOptions): Promise<VimClient> {
    // A password in the URL is dropped from it, but kept among the strings every report redacts.
    const urlPasswords = passwordForms(new URL(options.url.toString()).password);
    const url = normalizeSdkUrl(options.url);
    const password = options.password;
    const transport = new SoapTransport(url, {
      trust: { thumbprint: options.thumbprint, caFile: options.caFile, caPem: options.caPem, insecure: options.insecure },
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      apiVersion: options.apiVersion,
      userAgent: options.userAgent,
      log: options.log,
      logBodies: options.logBodies,
      secrets: () => [password, ...urlPasswords],
    });
    const retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    try {
      const serviceContent = (await retryTransient(retryPolicy, (attempt) =>
        transport.call('RetrieveServiceContent', SERVICE_INSTANCE, {}, { returns: 'ServiceContent', attempt }),
      )) as ServiceContent;
      const client = new VimClient(transport, serviceContent, options.username, password, retryPolicy, options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS);
      await client.login();
      return client;
    } catch (err) {
      await transport.close();
      throw err;
    }
  }

  /** SOAP round trips so far, per method. */
  get stats(): SoapStats {
    return this.transport.stats;
  }

  /** Increments on every successful login; objects bound to a session (views, collectors) die with it. */
  get sessionGeneration(): number {
    return this.sessionGenerationCounter;
  }

  private async login(): Promise<UserSession> {
    this.transport.clearSession();
    try {
      const session = (await retryTransient(this.retryPolicy, (attempt) =>
        this.transport.call(
          'Login',
          this.serviceContent.sessionManager,
          { userName: this.username, password: this.password },
          { returns: 'UserSession', attempt },
        ),
      )) as UserSession;
      this.sessionGenerationCounter++;
      return session;
    } catch (err) {
      if (err instanceof InvalidLoginError) {
        throw new InvalidLoginError(
          { faultName: err.faultName, method: 'Login', object: this.serviceContent.sessionManager, detail: err.detail },
          `login to ${this.url.href} as ${this.username} failed: wrong user name or password`,
        );
      }
      throw err;
    }
  }

  /** One shared re-login for all calls that saw NotAuthenticated at the same time. */
  private reloginOnce(): Promise<void> {
    if (!this.relogin) {
      this.relogin = this.login()
        .then(() => undefined)
        .finally(() => {
          this.relogin = undefined;
        });
    }
    return this.relogin;
  }

  /**
   * The server's clock now (ServiceInstance.CurrentTime). A time vSphere recorded (a VM's
   * config.createDate) is compared with this, never with the local clock, which may be off.
   */
  async serverTime(): Promise<Date> {
    return new Date(await this.call<string>('CurrentTime', SERVICE_INSTANCE, {}, { returns: 'dateTime' }));
  }

  /**
   * Calls a vim25 method on `thisRef`. Transient failures are retried with backoff; on
   * NotAuthenticated the client logs in again once and retries the call once.
   */
  async call<T = unknown>(method: string, thisRef: ManagedObjectReference, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    if (this.closed) {
      throw new VimFault({ faultName: 'ClientClosed', method, object: thisRef }, `${method}: the vSphere client for ${this.url.host} is closed`);
    }
    const once = async (): Promise<T> => {
      // A cancelled apply stops retrying at once instead of sleeping through its backoff.
      const result = await retryTransient(
        options.retry === false ? { ...this.retryPolicy, attempts: 1 } : this.retryPolicy,
        (attempt) => this.transport.call(method, thisRef, args, { returns: options.returns, long: options.long, timeoutMs: options.timeoutMs, attempt }),
        undefined,
        currentCancellation(),
      );
      options.inspect?.(result);
      return result as T;
    };
    const generation = this.sessionGenerationCounter;
    try {
      return await once();
    } catch (err) {
      if (!isNotAuthenticated(err)) throw err;
      // Another call may already have logged in again since this one was sent.
      if (this.sessionGenerationCounter === generation) await this.reloginOnce();
      return once();
    }
  }

  /** Ends the session on the server. Safe to call twice. */
  async logout(): Promise<void> {
    if (!this.transport.sessionCookie) return;
    try {
      await this.transport.call('Logout', this.serviceContent.sessionManager, {});
    } catch (err) {
      if (!isNotAuthenticated(err)) throw err;
    } finally {
      this.transport.clearSession();
    }
  }

  /** Logs out (best effort) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.logout();
    } catch {
      // The session dies with its idle timeout anyway; closing must not fail on a dead server.
    } finally {
      this.closed = true;
      await this.transport.close();
    }
  }
}

/** Builds a NotAuthenticated error for results that report it in-band (vcsim's missingSet). */
export function notAuthenticatedInResult(init: Omit<VimFaultInit, 'faultName'>): NotAuthenticatedError {
  return new NotAuthenticatedError({ ...init, faultName: 'NotAuthenticated' });
}
