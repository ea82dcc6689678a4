/**
 * The endpoint's listener: HTTPS with client certificates required (mutual TLS, TLS 1.2 or later)
 * by default; plain HTTP only when asked for, and only on a loopback address.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Engine } from '../engine';
import { certificateFiles, envLines, type ServerTls } from './certs';
import { DockerEndpoint } from './server';

export interface ServeOptions {
  readonly engine: Engine;
  readonly vch: string;
  readonly host: string;
  /** 0: a free port. */
  readonly port: number;
  /** The server's key pair and the CA of its clients; undefined only for plain HTTP on loopback. */
  readonly tls?: ServerTls;
  readonly insecureRegistries?: readonly string[];
  readonly version: string;
  readonly pollMs?: number;
  /** How long lookups are kept across requests (EndpointOptions.keptLookupsMs). */
  readonly keptLookupsMs?: number;
  /** How long a container's create hands its VM on to its start (EndpointOptions.handedOnMs). */
  readonly handedOnMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly endpoint: DockerEndpoint;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function serveEndpoint(o: ServeOptions): Promise<RunningEndpoint> {
  if (!o.tls && !isLoopback(o.host)) {
    throw new Error(
      `plain HTTP on ${o.host} would let anyone who reaches it run containers in the VCH with the endpoint's vSphere rights; plain HTTP is served on loopback only (127.0.0.1, ::1, localhost). Serve mutual TLS instead (vic endpoint certs).`,
    );
  }
  const endpoint = new DockerEndpoint({
    engine: o.engine,
    vch: o.vch,
    insecureRegistries: o.insecureRegistries,
    version: o.version,
    pollMs: o.pollMs,
    keptLookupsMs: o.keptLookupsMs,
    handedOnMs: o.handedOnMs,
    log: o.log,
  });
  await endpoint.start();
  const server: Server = o.tls
    ? createHttpsServer({ key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' })
    : createHttpServer();
  server.on('request', endpoint.onRequest);
  server.on('upgrade', endpoint.onUpgrade);
  // A client that fails the handshake (no certificate, another CA) is refused by TLS itself; say so in the log.
  server.on('tlsClientError', (err: Error) => o.log?.(`TLS handshake refused: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: o.host,
    port,
    tls: o.tls !== undefined,
    endpoint,
    close: async () => {
      endpoint.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Where a running endpoint says it listens, for `vic endpoint env`. */
export function endpointRecordFile(dir: string): string {
  return join(dir, 'endpoint.json');
}

export function writeEndpointRecord(dir: string, running: { host: string; port: number; tls: boolean }, pid: number): void {
  const certPath = running.tls ? certificateFiles(dir).clientDir : undefined;
  writeFileSync(endpointRecordFile(dir), `${JSON.stringify({ host: running.host, port: running.port, tls: running.tls, certPath, pid }, null, 2)}\n`, {
    mode: 0o644,
  });
}

export { envLines };
