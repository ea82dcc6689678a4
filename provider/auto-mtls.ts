/**
 * go-plugin AutoMTLS, server side: a fresh self-signed certificate for "localhost" per process (its
 * DER goes into the handshake line), and the client's certificate from PLUGIN_CLIENT_CERT as the only
 * CA, with client certificates required. Without PLUGIN_CLIENT_CERT (TF_DISABLE_PLUGIN_TLS=1) the
 * server speaks plaintext over the socket, as go-plugin does.
 */
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { ensurePrivateDir, privateCacheDir, writePrivateFile } from '../src/private-cache';

export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** Field 6 of the handshake line: base64 of the raw DER, standard alphabet, NO padding. */
  readonly handshakeField: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function generateServerCertificate(now = new Date()): Promise<ServerCertificate> {
  // tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill before it loads.
  await import('reflect-metadata');
  // Loaded here, not at the top: only the TLS path pays for it.
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] &= 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'CN=localhost, O=vic-iac',
    // A minute of slack for clock differences; a day is more than any Terraform run lasts per process.
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 24 * 3600_000),
    signingAlgorithm: ALGORITHM,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      // Go checks the EKU when present: serverAuth must be in it.
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // Go ignores the CN; the name Terraform dials ("localhost") must be a SAN.
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  // go-plugin decodes with base64.RawStdEncoding: any "=" padding fails the handshake.
  const handshakeField = Buffer.from(cert.rawData).toString('base64').replace(/=+$/, '');
  return { certPem: cert.toString('pem'), keyPem, handshakeField };
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
