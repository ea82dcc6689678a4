/**
 * The endpoint's TLS material, as vic-machine made it: a CA of its own, a server certificate with
 * SANs for the addresses the endpoint serves, and a client bundle (`ca.pem`, `cert.pem`, `key.pem`)
 * with an env file for the docker CLI. Keys are ECDSA P-256, written 0600.
 *
 *   <dir>/ca.pem, ca-key.pem           the CA (its key signs the other two)
 *   <dir>/server-cert.pem, server-key.pem
 *   <dir>/client/{ca,cert,key}.pem     DOCKER_CERT_PATH
 *   <dir>/client/env                   DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY=1
 */
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** The docker CLI's port for TLS. */
export const TLS_PORT = 2376;
/** The docker CLI's port for plain HTTP. */
export const PLAIN_PORT = 2375;

export function endpointStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'vic-iac', 'endpoint');
}

export interface CertificateFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientDir: string;
  readonly envFile: string;
}

export function certificateFiles(dir: string): CertificateFiles {
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server-cert.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientDir: join(dir, 'client'),
    envFile: join(dir, 'client', 'env'),
  };
}

export interface ServerTls {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

/** The server's key pair and the CA its clients must come from; a clear error when `certs` never ran. */
export function readServerTls(dir: string): ServerTls {
  const f = certificateFiles(dir);
  for (const file of [f.caCert, f.serverCert, f.serverKey]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: make the endpoint's certificates first with: vic endpoint certs --dir ${dir}`);
  }
  return { key: readFileSync(f.serverKey, 'utf8'), cert: readFileSync(f.serverCert, 'utf8'), ca: readFileSync(f.caCert, 'utf8') };
}

type X509 = typeof import('@peculiar/x509');

async function loadX509(): Promise<X509> {
  // tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill before it loads.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509;
}

function pemKey(pkcs8: ArrayBuffer): string {
  const b64 = Buffer.from(pkcs8)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}-----END PRIVATE KEY-----\n`;
}

function serialNumber(): string {
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] &= 0x7f; // a positive INTEGER
  return serial.toString('hex');
}

type Keys = webcrypto.CryptoKeyPair;
/** The key type @peculiar/x509 takes (the DOM's CryptoKey, which node's webcrypto keys are). */
type XKey = Parameters<typeof import('@peculiar/x509').SubjectKeyIdentifierExtension.create>[0] & object;

async function newKeys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as Keys;
}

export interface GenerateOptions {
  /** Names and addresses the server answers on: each becomes a SAN; the first goes into DOCKER_HOST. */
  readonly hosts: readonly string[];
  readonly port: number;
  /** Validity in days. */
  readonly days?: number;
  readonly now?: Date;
}

/** Writes a new CA, server certificate and client bundle into `dir` (replacing what is there). */
export async function generateCertificates(dir: string, options: GenerateOptions): Promise<CertificateFiles> {
  const x509 = await loadX509();
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (options.days ?? 365) * 86400_000);
  const hosts = options.hosts.length > 0 ? options.hosts : ['localhost', '127.0.0.1'];
  type SignKeys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

  const caKeys = await newKeys();
  const caName = 'CN=vic-iac endpoint CA, O=vic-iac';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: caName,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys: caKeys as unknown as SignKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as unknown as XKey),
    ],
  });

  const leaf = async (subject: string, usage: string, sans: InstanceType<X509['SubjectAlternativeNameExtension']>[]) => {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey as unknown as XKey,
      signingKey: caKeys.privateKey as unknown as XKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        // The docker CLI (Go) checks the EKU: serverAuth on the server's, clientAuth on the client's.
        new x509.ExtendedKeyUsageExtension([usage]),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
        ...sans,
      ],
    });
    return { cert: cert.toString('pem'), key: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
  };
  // Go ignores the CN: the host the client dials must be a SAN, an IP as an IP SAN.
  const sanEntries = hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
  const server = await leaf(`CN=${hosts[0]}, O=vic-iac`, x509.ExtendedKeyUsage.serverAuth, [new x509.SubjectAlternativeNameExtension(sanEntries)]);
  const client = await leaf('CN=docker client, O=vic-iac', x509.ExtendedKeyUsage.clientAuth, []);

  const f = certificateFiles(dir);
  mkdirSync(f.clientDir, { recursive: true, mode: 0o700 });
  const caPem = ca.toString('pem');
  const write = (file: string, text: string, mode = 0o644) => writeFileSync(file, text, { mode });
  write(f.caCert, caPem);
  write(join(dir, 'ca-key.pem'), pemKey(await webcrypto.subtle.exportKey('pkcs8', caKeys.privateKey)), 0o600);
  write(f.serverCert, server.cert);
  write(f.serverKey, server.key, 0o600);
  write(join(f.clientDir, 'ca.pem'), caPem);
  write(join(f.clientDir, 'cert.pem'), client.cert);
  write(join(f.clientDir, 'key.pem'), client.key, 0o600);
  write(f.envFile, envLines({ host: hosts[0], port: options.port, tls: true, certPath: f.clientDir }).join('\n') + '\n');
  return f;
}

export interface EndpointAddress {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** DOCKER_CERT_PATH, with TLS. */
  readonly certPath?: string;
}

/** The `export` lines that point the docker CLI at the endpoint, for `eval "$(vic endpoint env)"`. */
export function envLines(a: EndpointAddress): string[] {
  const host = isIP(a.host) === 6 ? `[${a.host}]` : a.host;
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  if (!a.tls) return [`export DOCKER_HOST=${quote(`tcp://${host}:${a.port}`)}`, 'unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH'];
  return [`export DOCKER_HOST=${quote(`tcp://${host}:${a.port}`)}`, `export DOCKER_CERT_PATH=${quote(a.certPath ?? '')}`, 'export DOCKER_TLS_VERIFY=1'];
}
