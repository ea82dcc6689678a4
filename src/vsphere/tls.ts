/**
 * TLS trust for the vSphere endpoint: verified by default, a pinned SHA-256 thumbprint, a pinned
 * CA file, or (only when asked) no verification.
 *
 * The connector completes the handshake with Node's own chain and hostname checks recorded but not
 * enforced, then decides itself, BEFORE any request byte is written. That lets a thumbprint pin a
 * self-signed certificate, and lets every refusal name the certificate's actual thumbprint so the
 * user can decide to pin it.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { buildConnector } from './undici-core';
import { DEFERRED_EXTRA_CA_CERTS, defaultTrustContext } from '../extra-ca-certs';

export interface TlsTrust {
  /** SHA-256 fingerprint of the server certificate, `AA:BB:…` (case and colons optional). */
  readonly thumbprint?: string;
  /** A PEM file with the CA (or the self-signed certificate) to trust instead of the system CAs. */
  readonly caFile?: string;
  /** PEM text, as an alternative to caFile. */
  readonly caPem?: string;
  /** Skip verification entirely. Only when the user explicitly asked for it. */
  readonly insecure?: boolean;
}

/** Refusal of the server's certificate; the message names what to do. */
export class TlsTrustError extends Error {
  readonly code = 'VIC_TLS_UNTRUSTED';
  constructor(
    message: string,
    readonly actualThumbprint?: string,
  ) {
    super(message);
    this.name = 'TlsTrustError';
  }
}

/** `aa:bb…`, `AABB…` → `AA:BB:…`. */
export function normalizeThumbprint(thumbprint: string): string {
  const hex = thumbprint.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{1,2}/g)?.join(':') ?? '';
}

export function describeTrust(trust: TlsTrust): string {
  if (trust.insecure) return 'insecure (no verification)';
  if (trust.thumbprint) return `pinned thumbprint ${normalizeThumbprint(trust.thumbprint)}`;
  if (trust.caFile) return `CA file ${trust.caFile}`;
  if (trust.caPem) return 'pinned CA';
  // Whether Node loaded it at start or the launcher deferred it to src/extra-ca-certs.ts.
  const extra = process.env[DEFERRED_EXTRA_CA_CERTS] || process.env.NODE_EXTRA_CA_CERTS;
  return extra ? `system CAs and NODE_EXTRA_CA_CERTS ${extra}` : 'system CAs';
}

/** Why the socket's certificate is not acceptable under `trust`, or undefined when it is. */
export function checkPeer(socket: TLSSocket, trust: TlsTrust, host: string): TlsTrustError | undefined {
  if (trust.insecure) return undefined;
  const actual = socket.getPeerCertificate()?.fingerprint256;
  if (trust.thumbprint) {
    const expected = normalizeThumbprint(trust.thumbprint);
    if (actual && normalizeThumbprint(actual) === expected) return undefined;
    return new TlsTrustError(
      `TLS certificate of ${host} does not match the pinned thumbprint: expected ${expected}, got ${actual ?? '(no certificate)'}; ` +
        'check that you reach the right server, then update the thumbprint',
      actual,
    );
  }
  if (socket.authorized) return undefined;
  const reason = socket.authorizationError instanceof Error ? socket.authorizationError.message : String(socket.authorizationError);
  return new TlsTrustError(
    `TLS certificate of ${host} is not trusted (${reason}, checked against ${describeTrust(trust)}); ` +
      `pin it with thumbprint = "${actual ?? '?'}" (VSPHERE_THUMBPRINT), give its CA with ca_file (VSPHERE_CA_FILE), ` +
      'or set allow_unverified_ssl (VSPHERE_ALLOW_UNVERIFIED_SSL) only for a test bed',
    actual,
  );
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? String(err);
    throw new TlsTrustError(`cannot read the CA file ${path} (${code}); give a PEM file with the vCenter CA or certificate`);
  }
}

/** An undici connector that enforces `trust` on every new TLS connection. */
export function trustingConnector(trust: TlsTrust, connectTimeoutMs: number): buildConnector.connector {
  const ca = trust.caPem ?? (trust.caFile ? readCaFile(trust.caFile) : undefined);
  const options = {
    rejectUnauthorized: false,
    // A resumed session may not present the certificate again, so pin checks need full handshakes.
    maxCachedSessions: 0,
    timeout: connectTimeoutMs,
    keepAlive: true,
  };
  // A pinned thumbprint (or no verification) never consults the chain.
  const base = trustConnector(options, { ca, checksChain: !trust.thumbprint && !trust.insecure });
  return (options, callback) => {
    base(options, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('connection failed'), null);
        return;
      }
      if (options.protocol === 'https:') {
        const refusal = checkPeer(socket as TLSSocket, trust, `${options.hostname}:${options.port || 443}`);
        if (refusal) {
          socket.destroy();
          callback(refusal, null);
          return;
        }
      }
      callback(null, socket);
    });
  };
}

/**
 * An undici connector with `options` and the trust store its TLS connections verify against, one
 * rule for vSphere and the registries:
 * - a CA of the caller's own (`ca`) replaces the default trust, as in Node;
 * - a caller that never checks the chain (`checksChain` false: a pinned thumbprint, no
 *   verification) gets an empty store, sparing the parse of some 140 bundled roots (tens of ms of
 *   CPU per process, bench/README.md);
 * - else the default trust, with a deferred NODE_EXTRA_CA_CERTS (src/extra-ca-certs.ts), built by
 *   the first TLS connection: a plain-http peer never pays for it.
 */
export function trustConnector(options: buildConnector.BuildOptions, trust: { readonly ca?: string; readonly checksChain: boolean }): buildConnector.connector {
  if (trust.ca || !trust.checksChain) return buildConnector({ ...options, ca: trust.ca ?? [] });
  let plain: buildConnector.connector | undefined;
  let secure: buildConnector.connector | undefined;
  return (opts, callback) => {
    if (opts.protocol !== 'https:') return (plain ??= buildConnector(options))(opts, callback);
    const context = defaultTrustContext();
    return (secure ??= buildConnector(context ? { ...options, secureContext: context } : options))(opts, callback);
  };
}
