/**
 * go-plugin AutoMTLS, server side: a fresh self-signed certificate for "localhost" per process (its
 * DER goes into the handshake line), and the client's certificate from PLUGIN_CLIENT_CERT as the only
 * CA, with client certificates required. Without PLUGIN_CLIENT_CERT (TF_DISABLE_PLUGIN_TLS=1) the
 * server speaks plaintext over the socket, as go-plugin does.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { ensurePrivateDir, privateCacheDir, writePrivateFile } from '../src/private-cache';
import { loadBundle } from './code-cache';

export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** Field 6 of the handshake line: base64 of the raw DER, standard alphabet, NO padding. */
  readonly handshakeField: string;
}

/**
 * A fresh self-signed certificate for "localhost", valid for a day. The X.509 library it needs is a
 * quarter of the handshake bundle, and a start that finds a cached certificate never uses it: the
 * installed provider ships it as a bundle of its own (self-signed.js beside main.js), loaded here.
 */
export async function generateServerCertificate(now = new Date()): Promise<ServerCertificate> {
  const bundled = join(__dirname, 'self-signed.js');
  const { selfSignedCertificate } = (
    existsSync(bundled)
      ? loadBundle(bundled).exports
      : // eslint-disable-next-line @typescript-eslint/no-require-imports -- the source tree, where no bundle exists
        require('./self-signed')
  ) as typeof import('./self-signed');
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
  readonly credentials: grpc.ServerCredentials;
  /** Empty when plaintext. */
  readonly handshakeField: string;
  readonly certificate?: CertificateSource;
}

/** Picks TLS or plaintext from the environment go-plugin sets up for its plugins. */
export async function transportSecurity(grpcModule: typeof grpc, env: NodeJS.ProcessEnv = process.env): Promise<TransportSecurity> {
  const clientCert = env.PLUGIN_CLIENT_CERT;
  if (!clientCert || clientCert.trim() === '') {
    return { credentials: grpcModule.ServerCredentials.createInsecure(), handshakeField: '' };
  }
  const { cert: own, source } = await serverCertificate(env);
  const credentials = grpcModule.ServerCredentials.createSsl(
    Buffer.from(clientCert),
    [{ cert_chain: Buffer.from(own.certPem), private_key: Buffer.from(own.keyPem) }],
    // Require a client certificate and verify it against PLUGIN_CLIENT_CERT.
    true,
  );
  return { credentials, handshakeField: own.handshakeField, certificate: source };
}
