/**
 * A local TCP relay in front of a server that counts every byte the client sends through it (TLS
 * records included, so what crossed the wire, SOAP and datastore PUTs alike). Point a client at
 * `url` instead of the server's URL; the server's certificate still verifies (same thumbprint).
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface CountingRelay {
  readonly url: string;
  /** Bytes the clients have sent so far. */
  sent(): number;
  close(): Promise<void>;
}

export async function countingRelay(serverUrl: string): Promise<CountingRelay> {
  const target = new URL(serverUrl);
  let sent = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => (sent += chunk.length));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(serverUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
