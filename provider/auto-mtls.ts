/**
 * go-plugin AutoMTLS, server side: a self-signed certificate for "localhost" (its DER goes into the
 * handshake line), and client certificates required, the only one accepted being the one from
 * PLUGIN_CLIENT_CERT. Without PLUGIN_CLIENT_CERT (TF_DISABLE_PLUGIN_TLS=1) the server speaks plaintext
 * over the socket, as go-plugin does.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Server, createServer } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { ensurePrivateDir, privateCacheDir, writePrivateFile } from '../src/private-cache';
import { loadSideBundle } from './code-cache';

export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** Field 6 of the handshake line: base64 of the raw DER, standard alphabet, NO padding. */
  readonly handshakeField: string;
}

/**
 * A fresh self-signed certificate for "localhost", valid for a day. The X.509 library it needs would
 * be a large part of the handshake bundle, which every start loads, and a start that finds a cached
 * certificate never uses it: the installed provider ships it as a bundle of its own (self-signed.js
 * beside main.js), loaded here.
 */
export async function generateServerCertificate(now = new Date()): Promise<ServerCertificate> {
  const { selfSignedCertificate } = loadSideBundle<typeof import('./self-signed')>(
    'self-signed.js',
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the source tree, where no bundle exists
    () => require('./self-signed'),
  );
  return selfSignedCertificate(now);
}

/** Whether the handshake certificate was generated now or reused from the per-user cache. */
export type CertificateSource = 'generated' | 'cached';

/**
 * Where the server certificate is kept between the provider processes of one Terraform run: the
 * per-user runtime directory (tmpfs, mode 0700) when there is one, else the user's cache directory;
 * undefined when that directory cannot be made or is open to other users (then nothing is cached).
 */
export function certificateCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.VIC_PROVIDER_CERT_DIR) return ensurePrivateDir(env.VIC_PROVIDER_CERT_DIR) ? env.VIC_PROVIDER_CERT_DIR : undefined;
  return privateCacheDir('', env);
}

const CACHE_FILE = 'terraform-provider-cert.pem';
/** Reuse only while the certificate has at least this long to live. */
const MIN_REMAINING_MS = 3600_000;

function readCachedCertificate(dir: string, now: Date): ServerCertificate | undefined {
  try {
    const pem = readFileSync(join(dir, CACHE_FILE), 'utf8');
    const certPem = pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----'), pem.indexOf('-----END CERTIFICATE-----') + 25) + '\n';
    const keyPem = pem.slice(pem.indexOf('-----BEGIN PRIVATE KEY-----'), pem.indexOf('-----END PRIVATE KEY-----') + 25) + '\n';
    const cert = new X509Certificate(certPem);
    if (new Date(cert.validTo).getTime() - now.getTime() < MIN_REMAINING_MS || new Date(cert.validFrom).getTime() > now.getTime()) return undefined;
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    return { certPem, keyPem, handshakeField: cert.raw.toString('base64').replace(/=+$/, '') };
  } catch {
    return undefined;
  }
}

function writeCachedCertificate(dir: string, cert: ServerCertificate): void {
  // The key stays readable by this user only.
  writePrivateFile(dir, CACHE_FILE, cert.certPem + cert.keyPem);
}

/**
 * Terraform starts a provider process for every phase, and generating a certificate means loading
 * an X.509 library (tens of milliseconds): processes of the same user share one certificate for up
 * to a day, kept with mode 0600. It authenticates this plugin to Terraform, which trusts only the
 * certificate printed in the handshake; the client side is still verified on every connection.
 */
export async function serverCertificate(
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): Promise<{ cert: ServerCertificate; source: CertificateSource }> {
  // A key another user could have written is not ours to present: only a private directory is used.
  const dir = env.VIC_PROVIDER_CERT_CACHE === '0' ? undefined : certificateCacheDir(env);
  const cached = dir ? readCachedCertificate(dir, now) : undefined;
  if (cached) return { cert: cached, source: 'cached' };
  const cert = await generateServerCertificate(now);
  if (dir) writeCachedCertificate(dir, cert);
  return { cert, source: 'generated' };
}

export interface TransportSecurity {
  /**
   * Listens on the unix socket and hands `accept` each connection that passed the checks, as a
   * stream gRPC can speak HTTP/2 over (TLS already terminated); the listener is returned to be closed.
   */
  listen(socketPath: string, accept: (socket: Duplex) => void): Promise<Server>;
  /** Empty when plaintext. */
  readonly handshakeField: string;
  readonly certificate?: CertificateSource;
}

/** Why a TLS client was turned away, or undefined when it is the one Terraform named. */
export function refusal(peer: X509Certificate | undefined, pinned: X509Certificate, now = Date.now()): string | undefined {
  if (!peer) return 'no client certificate';
  // The exact certificate, not "one PLUGIN_CLIENT_CERT could have signed": OpenSSL's chain check is off.
  if (!peer.raw.equals(pinned.raw)) return 'a client certificate other than PLUGIN_CLIENT_CERT';
  // Written so that a date that does not parse (NaN) refuses too.
  if (!(Date.parse(peer.validFrom) <= now && now <= Date.parse(peer.validTo))) return 'the client certificate is outside its validity period';
  return undefined;
}

/**
 * Picks TLS or plaintext from the environment go-plugin sets up for its plugins.
 *
 * With TLS, the client must present exactly the certificate go-plugin put in PLUGIN_CLIENT_CERT. That
 * certificate is pinned here rather than given to OpenSSL as the trusted CA: any `ca` option makes Node
 * parse its whole bundled root store first, a large share of every start (bench/README.md), whereas
 * `ca: []` builds no store at all. The TLS handshake itself still makes the client prove it holds the
 * certificate's key (CertificateVerify is checked whatever the chain verdict); OpenSSL's chain verdict
 * alone is ignored (`rejectUnauthorized: false`), and the socket reaches gRPC only once `refusal` passed.
 */
export async function transportSecurity(
  env: NodeJS.ProcessEnv = process.env,
  onRefused: (reason: string) => void = () => undefined,
): Promise<TransportSecurity> {
  const clientCert = env.PLUGIN_CLIENT_CERT;
  if (!clientCert || clientCert.trim() === '') {
    return { listen: (socketPath, accept) => listening(createServer(accept), socketPath), handshakeField: '' };
  }
  let pinned: X509Certificate;
  try {
    pinned = new X509Certificate(clientCert);
  } catch (err) {
    throw new Error(
      `PLUGIN_CLIENT_CERT is not a PEM certificate (${err instanceof Error ? err.message : String(err)}); it is set by Terraform's go-plugin, unset it to run without TLS`,
    );
  }
  const { cert: own, source } = await serverCertificate(env);
  const listen = (socketPath: string, accept: (socket: Duplex) => void): Promise<Server> => {
    const server = createTlsServer({
      cert: own.certPem,
      key: own.keyPem,
      ca: [],
      requestCert: true,
      rejectUnauthorized: false,
      // gRPC over TLS is HTTP/2 only; Go's gRPC client refuses a server that does not select h2.
      ALPNProtocols: ['h2'],
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      // A TLS 1.2 renegotiation could swap the certificate after the check.
      socket.disableRenegotiation();
      const reason = refusal(socket.getPeerX509Certificate(), pinned);
      if (reason) {
        onRefused(reason);
        socket.destroy();
        return;
      }
      // A peer that resets mid-stream must not take the process down (Node leaves that to the caller).
      socket.on('error', () => undefined);
      accept(socket);
    });
    server.on('tlsClientError', (err) => onRefused(err.message));
    return listening(server, socketPath);
  };
  return { listen, handshakeField: own.handshakeField, certificate: source };
}

function listening(server: Server, socketPath: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on unix socket ${socketPath}: ${err.message}`)));
    server.listen(socketPath, () => resolve(server));
  });
}
