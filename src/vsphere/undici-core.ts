/**
 * The part of undici the engine uses (an Agent, a TLS connector, `request` on a dispatcher), loaded
 * without the package's entry file. That file also loads fetch, WebSocket, EventSource, the HTTP
 * cache, the proxy and mock agents and more, and runs their setup at every process start that
 * connects to vSphere (a plan's, an apply's, the Docker endpoint's): through the provider's code
 * cache 36–46 ms of CPU against 14–16 ms for these modules alone (bench/README.md, row 1).
 *
 * The same modules, the same classes: the entry file is what requires them too, and
 * test/unit/vsphere/undici-core.test.ts checks that each export here is the package's own, so an undici
 * whose files move fails there, not in a user's plan.
 */
import type * as Undici from 'undici';

/* eslint-disable @typescript-eslint/no-require-imports -- undici's own files, as its entry file requires them */
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
const api = require('undici/lib/api/index.js') as Record<string, unknown>;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
/* eslint-enable @typescript-eslint/no-require-imports */

// What the entry file does before it exports anything: request() and its kin are Dispatcher methods.
Object.assign(Dispatcher.prototype, api);

export type { Dispatcher } from 'undici';
export type Agent = Undici.Agent;
// eslint-disable-next-line @typescript-eslint/no-namespace -- the types undici declares beside buildConnector, under the same name
export declare namespace buildConnector {
  type connector = Undici.buildConnector.connector;
  type BuildOptions = Undici.buildConnector.BuildOptions;
}

/**
 * undici's `request(url, options)` for a call that names its dispatcher (every call here does: each
 * client owns its Agent and its TLS trust); the method is the caller's, never guessed from a body.
 */
export function request(
  url: string | URL,
  options: Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { readonly dispatcher: Undici.Dispatcher },
): Promise<Undici.Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const target = typeof url === 'string' ? new URL(url) : url;
  return dispatcher.request({ ...rest, origin: target.origin, path: `${target.pathname}${target.search}` });
}
