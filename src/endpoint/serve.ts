/**
 * The endpoint's listener: HTTPS with client certificates required (mutual TLS, TLS 1.2 or later)
 * by default; plain HTTP only when asked for, and only on a loopback address.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
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
  /** The endpoint's directory: where it keeps the networks docker made (EndpointOptions.stateDir). */
  readonly stateDir?: string;
  /** EndpointOptions.startWaitMs. */
  readonly startWaitMs?: number;
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
    stateDir: o.stateDir,
    startWaitMs: o.startWaitMs,
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
  // With TLS, the port is a plain listener that hands TLS connections on: a client that speaks plain
  // HTTP (DOCKER_TLS_VERIFY unset) is told so, as Go's HTTPS server tells it, instead of an EOF.
  // Every connection it took, until it closes: closing the endpoint ends them all (one still waiting
  // for its first byte or its handshake is no HTTP connection that closeAllConnections would end).
  const accepted = new Set<Socket>();
  const forget = (socket: Socket) => {
    accepted.delete(socket);
    socket.destroy();
  };
  // TLS takes a handed-on socket's handle over and closes it, and the socket itself never hears of it:
  // it goes when its TLS socket does (found by its peer's address and port), or it would stay
  // counted by the listener, and held here, for as long as the endpoint runs.
  const handedOn = new Map<string, Socket>();
  const peer = (s: Socket) => `${s.remoteAddress ?? ''}:${s.remotePort ?? ''}`;
  const release = (tlsSocket: Socket) => {
    const key = peer(tlsSocket);
    const raw = handedOn.get(key);
    if (!raw) return;
    const done = () => {
      if (handedOn.get(key) === raw) handedOn.delete(key);
      forget(raw);
    };
    if (tlsSocket.destroyed) done();
    else tlsSocket.once('close', done);
  };
  server.on('secureConnection', release);
  server.on('tlsClientError', (_err: Error, tlsSocket: Socket) => release(tlsSocket));
  const listener: NetServer = o.tls
    ? createNetServer((socket) => {
        accepted.add(socket);
        socket.once('close', () => accepted.delete(socket));
        handOn(socket, server, o.log, () => {
          const key = peer(socket);
          handedOn.set(key, socket);
          // A handshake the client gave up on closes the socket itself, and its TLS socket may tell no one.
          socket.once('close', () => {
            if (handedOn.get(key) === socket) handedOn.delete(key);
          });
        });
      })
    : server;
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(o.port, o.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  return {
    host: o.host,
    port,
    tls: o.tls !== undefined,
    endpoint,
    close: async () => {
      endpoint.close();
      server.closeAllConnections();
      for (const socket of accepted) forget(socket);
      if (listener !== server) {
        // It stops taking connections at once; its callback waits for their count to drain, which a
        // socket whose handle TLS took over may never report: not waited for beyond a moment.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => listener.close(() => resolve())),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
        ]);
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** How long a connection may stay silent before its first byte (Node's HTTPS handshake timeout is 120 s). */
const FIRST_BYTE_MS = 120_000;
/** The most a close waits for the listener's connections to be counted gone. */
const CLOSE_GRACE_MS = 1_000;
/** How long a plain-HTTP client has to read the 400 before its connection goes. */
const PLAIN_ANSWER_MS = 5_000;
/** The first byte of every TLS connection: a handshake record. */
const TLS_HANDSHAKE = 0x16;
const PLAIN_HTTP_ANSWER =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/** Hands a connection whose first byte opens a TLS handshake to the HTTPS server; answers plain HTTP with a 400 that says why. */
function handOn(socket: Socket, tlsServer: Server, log: ((line: string) => void) | undefined, handing: () => void): void {
  const onError = () => socket.destroy();
  socket.once('error', onError);
  // The HTTPS server's own handshake timeout starts once it has the socket: until then, this one.
  socket.setTimeout(FIRST_BYTE_MS, () => socket.destroy());
  socket.once('readable', () => {
    socket.setTimeout(0);
    // Peeked, not taken: read and put back before TLS sees the socket.
    const first = socket.read(1) as Buffer | null;
    if (first === null) return;
    socket.unshift(first);
    socket.off('error', onError);
    if (first[0] === TLS_HANDSHAKE) {
      handing();
      tlsServer.emit('connection', socket);
      return;
    }
    log?.(`plain HTTP from ${socket.remoteAddress ?? 'a client'} refused: this endpoint serves mutual TLS (set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)`);
    socket.end(PLAIN_HTTP_ANSWER);
    // A client that reads the answer but never closes its side is not waited for.
    socket.setTimeout(PLAIN_ANSWER_MS, () => socket.destroy());
  });
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
