/**
 * Server-side CPU per gRPC call of the provider's transport, against a minimal gRPC server on
 * `node:http2`, in the same run: is the transport a bottleneck of a 1000-VM plan?
 *
 *   npx tsx bench/grpc-transport.ts [--calls N]     # results/grpc-transport.json
 *
 * Both servers serve `tfplugin6.Provider/ReadResource` on a unix socket with the provider's own
 * message codec (provider/protocol.ts, protobufjs): the request carries a container VM's state as
 * msgpack (about 1.5 KB, as Terraform sends it) and the handler returns it unchanged, so what is
 * measured is the transport and the codec, not the engine. Each server runs in its own child process
 * and reports its CPU time (user + system) over the measured calls; the client (grpc-js, the same for
 * both, 10 calls in flight as Terraform's -parallelism) runs in this process. Plaintext: TLS costs
 * the same under either server. The servers alternate, 3 rounds, medians reported.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseProtos, reflectedProtocol, serviceDefinition } from '../provider/protocol';
import { median, progress, ratio, round } from './figures';

const METHOD = 'ReadResource';
const SERVICE = 'tfplugin6.Provider';
const PATH = `/${SERVICE}/${METHOD}`;
const IN_FLIGHT = 10;

type Transport = 'grpc-js' | 'node-http2';

export interface TransportResult {
  readonly benchmark: 'grpc-transport';
  readonly description: string;
  readonly calls: number;
  readonly request_bytes: number;
  /** Server CPU microseconds per call (user + system), medians over the rounds. */
  readonly server_cpu_us_per_call: Readonly<Record<Transport, number>>;
  /** Wall time of all calls as the client saw them, ms. */
  readonly wall_ms: Readonly<Record<Transport, number>>;
  readonly ratio_grpc_js_over_http2: number;
  readonly rounds: readonly Readonly<Record<Transport, number>>[];
}

// ---- the servers (child processes) ----

function decodeFrames(buffer: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= buffer.length) {
    if (buffer[offset] !== 0) throw new Error('compressed gRPC messages are not used by Terraform');
    const length = buffer.readUInt32BE(offset + 1);
    messages.push(buffer.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return messages;
}

function frame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

async function serveGrpcJs(socket: string): Promise<() => Promise<void>> {
  const root = reflectedProtocol(parseProtos(resolve(__dirname, '../provider/proto')));
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const definition = serviceDefinition(root, SERVICE);
  server.addService(
    { [METHOD]: definition[METHOD] },
    {
      [METHOD]: (call: grpc.ServerUnaryCall<{ current_state: unknown }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, { new_state: call.request.current_state }),
    },
  );
  await new Promise<void>((ok, fail) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? fail(err) : ok())));
  return () => new Promise((ok) => server.tryShutdown(() => ok()));
}

/** gRPC as Terraform speaks it (unary, uncompressed), on node:http2 with no library around it. */
async function serveHttp2(socket: string): Promise<() => Promise<void>> {
  const root = reflectedProtocol(parseProtos(resolve(__dirname, '../provider/proto')));
  const definition = serviceDefinition(root, SERVICE)[METHOD];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== PATH) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const [message] = decodeFrames(Buffer.concat(chunks));
      const request = definition.requestDeserialize(message) as { current_state: unknown };
      const reply = definition.responseSerialize({ new_state: request.current_state });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(reply));
    });
  });
  await new Promise<void>((ok) => server.listen(socket, ok));
  return () => new Promise((ok) => server.close(() => ok()));
}

async function serverMain(transport: Transport, socket: string): Promise<void> {
  const stop = await (transport === 'grpc-js' ? serveGrpcJs(socket) : serveHttp2(socket));
  let start = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'start') {
      start = process.cpuUsage();
      process.send?.('started');
    } else if (m === 'stop') {
      const used = process.cpuUsage(start);
      process.send?.(String(used.user + used.system), () => void stop().then(() => process.exit(0)));
    }
  });
  process.send?.('ready');
}

// ---- the client (this process) ----

function msgpackState(): Buffer {
  // About a container VM's state: 19 attributes, ids and paths. The codec carries it as opaque bytes.
  return randomBytes(1500);
}

async function measure(transport: Transport, calls: number, socketDir: string): Promise<{ cpuUs: number; wallMs: number }> {
  const socket = join(socketDir, `${transport}.sock`);
  const child = fork(__filename, ['--serve', transport, socket], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<string>((ok) => child.once('message', (m) => ok(String(m))));
  if ((await next()) !== 'ready') throw new Error(`${transport} server did not start`);
  const root = reflectedProtocol(parseProtos(resolve(__dirname, '../provider/proto')));
  const definition = serviceDefinition(root, SERVICE)[METHOD];
  const client = new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure());
  const state = { msgpack: msgpackState() };
  const one = () =>
    new Promise<void>((ok, fail) =>
      client.makeUnaryRequest(
        PATH,
        definition.requestSerialize,
        definition.responseDeserialize,
        { type_name: 'vic_container_vm', current_state: state },
        (err) => (err ? fail(err) : ok()),
      ),
    );
  try {
    // Warm-up: connections, JIT, the codec's generated functions.
    for (let i = 0; i < 500; i++) await one();
    child.send('start');
    await next();
    const started = process.hrtime.bigint();
    let issued = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (issued++ < calls) await one();
      }),
    );
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    child.send('stop');
    const cpu = Number(await next());
    return { cpuUs: cpu / calls, wallMs };
  } finally {
    client.close();
    await new Promise((ok) => (child.exitCode === null ? child.once('exit', ok) : ok(undefined)));
  }
}

export async function transportBench(calls: number): Promise<TransportResult> {
  const socketDir = join(tmpdir(), `vic-bench-grpc-${process.pid}`);
  mkdirSync(socketDir, { recursive: true });
  const rounds: Record<Transport, number>[] = [];
  const walls: Record<Transport, number>[] = [];
  try {
    for (let r = 0; r < 3; r++) {
      const order: Transport[] = r % 2 === 0 ? ['grpc-js', 'node-http2'] : ['node-http2', 'grpc-js'];
      const cpu = {} as Record<Transport, number>;
      const wall = {} as Record<Transport, number>;
      for (const t of order) {
        const m = await measure(t, calls, socketDir);
        cpu[t] = round(m.cpuUs);
        wall[t] = round(m.wallMs);
      }
      progress(`grpc transport round ${r + 1}: server CPU per call grpc-js ${cpu['grpc-js']} µs, node:http2 ${cpu['node-http2']} µs`);
      rounds.push(cpu);
      walls.push(wall);
    }
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
  const mid = (k: Transport) => median(rounds.map((x) => x[k]));
  return {
    benchmark: 'grpc-transport',
    description: `server CPU (user + system) per unary ${METHOD} call with a 1.5 KB state, ${IN_FLIGHT} in flight, grpc-js server vs a minimal gRPC server on node:http2, same codec (protobufjs), plaintext unix socket, medians of 3 rounds`,
    calls,
    request_bytes: 1500,
    server_cpu_us_per_call: { 'grpc-js': mid('grpc-js'), 'node-http2': mid('node-http2') },
    wall_ms: { 'grpc-js': median(walls.map((x) => x['grpc-js'])), 'node-http2': median(walls.map((x) => x['node-http2'])) },
    ratio_grpc_js_over_http2: ratio(mid('grpc-js'), mid('node-http2')),
    rounds,
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === '--serve') {
    void serverMain(args[1] as Transport, args[2]);
  } else {
    const calls = args[0] === '--calls' && args[1] ? Number(args[1]) : 5000;
    transportBench(calls)
      .then((result) => {
        const out = resolve(__dirname, 'results');
        if (!existsSync(out)) mkdirSync(out, { recursive: true });
        writeFileSync(join(out, 'grpc-transport.json'), `${JSON.stringify({ ...result, measured_at: new Date().toISOString() }, null, 2)}\n`);
        process.stdout.write(
          `${JSON.stringify(result.server_cpu_us_per_call)} µs server CPU per call; grpc-js / node:http2 = ${result.ratio_grpc_js_over_http2}×\n`,
        );
      })
      .catch((err: unknown) => {
        process.stderr.write(`grpc transport bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      });
  }
}
