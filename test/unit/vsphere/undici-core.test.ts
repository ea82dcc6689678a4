/**
 * src/vsphere/undici-core.ts loads undici's dispatcher, connector and request API without the
 * package's entry file. Requests through it reach a real HTTP server as undici's own `request`
 * sends them (first, before anything loads the entry file), and each export is the package's own
 * class, so an undici whose files move fails here.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, buildConnector, request } from '../../../src/vsphere/undici-core';

describe('undici without its entry file', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; url?: string; header?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, header: req.headers['x-probe'] as string | undefined, body });
        res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/plain' });
        res.end(`answer to ${req.method} ${req.url}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('GIVEN an Agent WHEN request() sends a PUT with a query, a header and a body THEN the server gets each, and the answer comes back', async () => {
    const dispatcher = new Agent({ connect: buildConnector({}) });
    try {
      const res = await request(`${base}/folder/a%20b?dsName=ds1`, { method: 'PUT', headers: { 'x-probe': 'yes' }, body: 'payload', dispatcher });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('answer to PUT /folder/a%20b?dsName=ds1');
      expect(seen.at(-1)).toEqual({ method: 'PUT', url: '/folder/a%20b?dsName=ds1', header: 'yes', body: 'payload' });
      const missing = await request(new URL(`${base}/missing`), { method: 'GET', dispatcher });
      expect(missing.statusCode).toBe(404);
      await missing.body.dump();
    } finally {
      await dispatcher.close();
    }
  });

  it('GIVEN the package entry WHEN compared THEN every export is its own, so a moved file fails here', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the entry file, loaded only now
    const undici = require('undici') as typeof import('undici');
    expect(Agent).toBe(undici.Agent);
    expect(buildConnector).toBe(undici.buildConnector);
    expect(Agent.prototype.request).toBe(undici.Dispatcher.prototype.request);
  });
});
