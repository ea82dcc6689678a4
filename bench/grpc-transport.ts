/**
 * Server-side CPU per gRPC call of the provider's transport, against other gRPC servers for Node in
 * the same run: is the transport a bottleneck of a 1000-VM plan, and would another library be cheaper?
 *
 *   npx tsx bench/grpc-transport.ts [--calls N] [--connect DIR]     # results/grpc-transport.json
 *
 * Every server serves `tfplugin6.Provider/ReadResource` on a unix socket: the request carries a
 * container VM's state as msgpack (about 1.5 KB, as Terraform sends it) and the handler returns it
 * unchanged, so what is measured is the transport and the message codec, not the engine.
 * - `grpc-js`: the provider's server, @grpc/grpc-js with the provider's static protobufjs code
 *   (protocol-static.js, built here by scripts/build-protocol.ts as the installed provider has it);
 * - `node-http2`: a minimal gRPC server on `node:http2` with no library around it, the same codec;
 * - with `--connect DIR`, `connect-node`: @connectrpc/connect-node's gRPC protocol over `node:http2`,
 *   with @bufbuild/protobuf messages generated from provider/proto by protoc-gen-es, its own codec,
 *   compression off as grpc-js has it; `connect-node-gzip`, the same with connect-node's default
 *   (replies over 1 KB gzipped to a client that accepts gzip); and `node-http2-es`: the minimal
 *   server with that codec, to tell the transport from the codec.
 *   DIR holds those packages and the generated code, outside the project (it does not depend on them):
 *     mkdir DIR && cd DIR && npm init -y && npm install --save-exact @connectrpc/connect@2.1.2 \
 *       @connectrpc/connect-node@2.1.2 @bufbuild/protobuf@2.17.0 @bufbuild/protoc-gen-es@2.17.0 @bufbuild/buf@1.75.0
 *     printf 'version: v2\nplugins:\n  - local: [node, node_modules/@bufbuild/protoc-gen-es/bin/protoc-gen-es]\n    out: gen\n    opt: [target=js, js_import_style=legacy_commonjs]\n' > buf.gen.yaml
 *     node_modules/@bufbuild/buf-linux-x64/bin/buf generate <repo>/provider/proto --template buf.gen.yaml
 *   (connect-node 2.2 and later want Node 22; the project supports Node 20.)
 *   With `--connect DIR` the run also times what a start would load for each library, in a fresh
 *   `node` (p50 of 20, interleaved): grpc-js with protocol-static.js against connect, connect-node,
 *   @bufbuild/protobuf and the generated code, each as one esbuild bundle like main.js, through the
 *   provider's code cache (provider/code-cache.ts) as a start loads main.js.
 * Each server runs in its own child process and reports its CPU time (user + system) over the measured
 * calls; the client (grpc-js with the protobufjs codec, the same for all, 10 calls in flight as
 * Terraform's -parallelism) runs in this process. Plaintext: TLS costs the same under any server.
 * The servers take turns, the order rotated per round, 3 rounds, medians reported.
 */
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type BuildOptions, build } from 'esbuild';
import { type Protocol, type StaticProtocolModule, serviceDefinition, staticProtocol } from '../provider/protocol';
import { median, percentile, progress, ratio, round } from './figures';

const REPO = resolve(__dirname, '..');
const METHOD = 'ReadResource';
const SERVICE = 'tfplugin6.Provider';
const PATH = `/${SERVICE}/${METHOD}`;
const IN_FLIGHT = 10;
const ROUNDS = 3;
const LOAD_RUNS = 20;

type Transport = 'grpc-js' | 'node-http2' | 'connect-node' | 'connect-node-gzip' | 'node-http2-es';
type Library = 'grpc-js' | 'connect-node';

export interface TransportResult {
  readonly benchmark: 'grpc-transport';
  readonly description: string;
  readonly calls: number;
  readonly request_bytes: number;
  /** Server CPU microseconds per call (user + system), medians over the rounds. */
  readonly server_cpu_us_per_call: Readonly<Partial<Record<Transport, number>>>;
  /** Wall time of all calls as the client saw them, ms. */
  readonly wall_ms: Readonly<Partial<Record<Transport, number>>>;
  readonly ratio_grpc_js_over_http2: number;
  readonly ratio_connect_node_over_grpc_js?: number;
  readonly rounds: readonly Readonly<Partial<Record<Transport, number>>>[];
  /** With --connect: what loading each library costs a start, ms in a fresh node, p50 (and p90) of LOAD_RUNS. */
  readonly load?: {
    readonly description: string;
    readonly bundle_bytes: Readonly<Record<Library, number>>;
    readonly cpu_ms_p50: Readonly<Record<Library, number>>;
    readonly wall_ms_p50: Readonly<Record<Library, number>>;
    readonly cpu_ms_p90: Readonly<Record<Library, number>>;
    readonly wall_ms_p90: Readonly<Record<Library, number>>;
  };
  readonly versions: Readonly<Record<string, string>>;
}

/** Where the runs find protocol-static.js and, with --connect, the connect packages and generated code. */
interface Setup {
  readonly protocolStatic: string;
  readonly connectDir?: string;
}

// ---- the message codecs ----

function providerProtocol(setup: Setup): Protocol {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file built by this run
  return staticProtocol(require(setup.protocolStatic) as StaticProtocolModule);
}

/** Descriptors of protoc-gen-es's code, opaque here: only the connect packages read them. */
type Desc = { readonly __desc: unique symbol };
interface RpcRouter {
  rpc(method: Desc, impl: (request: never) => object): RpcRouter;
  service(service: Desc, impl: object): RpcRouter;
}

/**
 * The connect packages and protoc-gen-es's code from DIR, never from the project's own modules (it
 * does not depend on them): typed here as far as this file uses them.
 */
interface ConnectModules {
  readonly connectNode: {
    connectNodeAdapter(options: {
      grpc: boolean;
      connect: boolean;
      grpcWeb: boolean;
      acceptCompression?: readonly never[];
      routes: (router: RpcRouter) => void;
    }): (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse) => void;
  };
  readonly protobuf: {
    create(schema: Desc, init: object): object;
    fromBinary(schema: Desc, bytes: Uint8Array): object;
    toBinary(schema: Desc, message: object): Uint8Array;
  };
  /** The generated tfplugin6_pb.js. */
  readonly tfplugin6: { Provider: { method: Record<string, Desc> }; ReadResource_RequestSchema: Desc; ReadResource_ResponseSchema: Desc };
}

function connectModules(dir: string): ConnectModules {
  const load = createRequire(join(dir, 'package.json'));
  return {
    connectNode: load('@connectrpc/connect-node') as ConnectModules['connectNode'],
    protobuf: load('@bufbuild/protobuf') as ConnectModules['protobuf'],
    tfplugin6: load(join(dir, 'gen', 'tfplugin6_pb.js')) as ConnectModules['tfplugin6'],
  };
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

function frame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

async function serveGrpcJs(socket: string, setup: Setup): Promise<() => Promise<void>> {
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const definition = serviceDefinition(providerProtocol(setup), SERVICE);
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
async function serveHttp2(socket: string, codec: (message: Buffer) => Uint8Array): Promise<() => Promise<void>> {
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
      const reply = codec(message);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(reply));
    });
  });
  await new Promise<void>((ok) => server.listen(socket, ok));
  return () => new Promise((ok) => server.close(() => ok()));
}

/** The provider's codec: protobufjs static code to and from the snake_case objects provider.ts reads. */
function protobufjsEcho(setup: Setup): (message: Buffer) => Uint8Array {
  const definition = serviceDefinition(providerProtocol(setup), SERVICE)[METHOD];
  return (message) => {
    const request = definition.requestDeserialize(message) as { current_state: unknown };
    return definition.responseSerialize({ new_state: request.current_state });
  };
}

/** protobuf-es: descriptors from protoc-gen-es, messages as its camelCase objects. */
function protobufEsEcho(m: ConnectModules): (message: Buffer) => Uint8Array {
  const { create, fromBinary, toBinary } = m.protobuf;
  const { ReadResource_RequestSchema: requestSchema, ReadResource_ResponseSchema: responseSchema } = m.tfplugin6;
  return (message) => {
    const request = fromBinary(requestSchema, message) as { currentState?: object };
    return toBinary(responseSchema, create(responseSchema, { newState: request.currentState }));
  };
}

/**
 * @connectrpc/connect-node serving the gRPC protocol only (what go-plugin speaks) on node:http2. By
 * default it gzips every response over 1 KB to a client that accepts gzip (grpc-js's client says it
 * does, and so does grpc-go's once a gzip compressor is linked in): `gzip` keeps that default, else
 * compression is off as grpc-js's server has it.
 */
async function serveConnect(socket: string, m: ConnectModules, gzip: boolean): Promise<() => Promise<void>> {
  const handler = m.connectNode.connectNodeAdapter({
    grpc: true,
    connect: false,
    grpcWeb: false,
    ...(gzip ? {} : { acceptCompression: [] }),
    routes: (router) => router.rpc(m.tfplugin6.Provider.method.readResource, (req: { currentState?: object }) => ({ newState: req.currentState })),
  });
  const server = http2.createServer(handler);
  await new Promise<void>((ok) => server.listen(socket, ok));
  return () => new Promise((ok) => server.close(() => ok()));
}

function startServer(transport: Transport, socket: string, setup: Setup): Promise<() => Promise<void>> {
  switch (transport) {
    case 'grpc-js':
      return serveGrpcJs(socket, setup);
    case 'node-http2':
      return serveHttp2(socket, protobufjsEcho(setup));
    case 'connect-node':
      return serveConnect(socket, connectModules(setup.connectDir!), false);
    case 'connect-node-gzip':
      return serveConnect(socket, connectModules(setup.connectDir!), true);
    case 'node-http2-es':
      return serveHttp2(socket, protobufEsEcho(connectModules(setup.connectDir!)));
  }
}

async function serverMain(transport: Transport, socket: string, setup: Setup): Promise<void> {
  const stop = await startServer(transport, socket, setup);
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

async function measure(transport: Transport, calls: number, socketDir: string, setup: Setup): Promise<{ cpuUs: number; wallMs: number }> {
  const socket = join(socketDir, `${transport}.sock`);
  const child = fork(__filename, ['--serve', transport, socket, setup.protocolStatic, setup.connectDir ?? ''], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () => new Promise<string>((ok) => child.once('message', (m) => ok(String(m))));
  if ((await next()) !== 'ready') throw new Error(`${transport} server did not start`);
  const definition = serviceDefinition(providerProtocol(setup), SERVICE)[METHOD];
  const client = new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure());
  const state = { msgpack: msgpackState() };
  const one = () =>
    new Promise<void>((ok, fail) =>
      client.makeUnaryRequest(
        PATH,
        definition.requestSerialize,
        definition.responseDeserialize,
        { type_name: 'vic_container_vm', current_state: state },
        (err, reply) => {
          if (err) return fail(err);
          // Every server must have echoed the state: a codec that dropped it would be measured cheaper.
          const echoed = (reply as { new_state?: { msgpack?: Uint8Array } } | undefined)?.new_state?.msgpack;
          if (!echoed || !Buffer.from(echoed).equals(state.msgpack)) return fail(new Error(`${transport} did not return the state it was sent`));
          ok();
        },
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

// ---- what loading each library costs a start ----

/**
 * One esbuild bundle per library, minified like main.js, whose `ready()` loads it and makes a server
 * with every service the provider serves registered, ready to be handed connections; and the runner
 * that loads them through the provider's code cache in a fresh node and prints its CPU and wall time.
 */
async function loadBundles(dir: string, setup: Setup): Promise<Record<Library, string> & { runner: string }> {
  const common: BuildOptions = { bundle: true, platform: 'node', target: 'node20', minify: true, mainFields: ['module', 'main'], logLevel: 'warning' };
  const files = { 'grpc-js': join(dir, 'grpc-js.js'), 'connect-node': join(dir, 'connect-node.js'), runner: join(dir, 'runner.js') };
  await build({
    ...common,
    stdin: {
      contents: `import * as grpc from '@grpc/grpc-js';
import { serviceDefinition, staticProtocol } from './provider/protocol';
export function ready(mod) {
  const protocol = staticProtocol(mod);
  const server = new grpc.Server({ 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1, 'grpc.enable_channelz': 0 });
  for (const name of Object.keys(protocol.services)) server.addService(serviceDefinition(protocol, name), {});
  return server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
}`,
      resolveDir: REPO,
      sourcefile: 'grpc-js-entry.ts',
      loader: 'ts',
    },
    // As scripts/build-provider.sh leaves them out of main.js.
    external: ['protobufjs', '@grpc/proto-loader'],
    outfile: files['grpc-js'],
  });
  await build({
    ...common,
    stdin: {
      contents: `const http2 = require('node:http2');
const { connectNodeAdapter } = require('@connectrpc/connect-node');
const tfplugin6 = require('./gen/tfplugin6_pb.js');
const goPlugin = require('./gen/go-plugin_pb.js');
const health = require('./gen/health_pb.js');
exports.ready = () => {
  const services = [tfplugin6.Provider, goPlugin.GRPCController, goPlugin.GRPCStdio, goPlugin.GRPCBroker, health.Health];
  const handler = connectNodeAdapter({ grpc: true, connect: false, grpcWeb: false, acceptCompression: [], routes: (router) => services.forEach((s) => router.service(s, {})) });
  return http2.createServer(handler);
};`,
      resolveDir: setup.connectDir!,
      sourcefile: 'connect-node-entry.js',
    },
    outfile: files['connect-node'],
  });
  await build({
    ...common,
    stdin: {
      contents: `import { loadBundle } from './provider/code-cache';
const [library, dir, protocolStatic] = process.argv.slice(2);
const wall = process.hrtime.bigint();
const cpu = process.cpuUsage();
const lib = loadBundle(dir + '/' + library + '.js').exports;
if (library === 'grpc-js') lib.ready(loadBundle(protocolStatic).exports);
else lib.ready();
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ cpu_ms: (used.user + used.system) / 1000, wall_ms: Number(process.hrtime.bigint() - wall) / 1e6 }));`,
      resolveDir: REPO,
      sourcefile: 'load-runner.ts',
      loader: 'ts',
    },
    outfile: files.runner,
  });
  return files;
}

async function loadCost(dir: string, setup: Setup): Promise<NonNullable<TransportResult['load']>> {
  const files = await loadBundles(dir, setup);
  // A code cache of this run's own, as a start after the first finds one.
  const env = { PATH: process.env.PATH ?? '', HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') };
  const libraries: Library[] = ['grpc-js', 'connect-node'];
  const once = (library: Library) =>
    JSON.parse(execFileSync(process.execPath, [files.runner, library, dir, setup.protocolStatic], { env, encoding: 'utf8' })) as {
      cpu_ms: number;
      wall_ms: number;
    };
  for (const library of libraries) once(library); // writes the code cache
  const runs: Record<Library, { cpu_ms: number; wall_ms: number }[]> = { 'grpc-js': [], 'connect-node': [] };
  for (let r = 0; r < LOAD_RUNS; r++) for (const library of r % 2 === 0 ? libraries : [...libraries].reverse()) runs[library].push(once(library));
  const of = (f: (xs: number[]) => number, key: 'cpu_ms' | 'wall_ms') =>
    Object.fromEntries(libraries.map((l) => [l, round(f(runs[l].map((x) => x[key])))])) as Record<Library, number>;
  return {
    description: `a fresh node loading one library's esbuild bundle (and for grpc-js protocol-static.js) through the provider's code cache and making a server with the provider's 5 services registered: CPU (user + system) and wall in the process, p50 and p90 of ${LOAD_RUNS}, interleaved`,
    bundle_bytes: { 'grpc-js': statSync(files['grpc-js']).size + statSync(setup.protocolStatic).size, 'connect-node': statSync(files['connect-node']).size },
    cpu_ms_p50: of(median, 'cpu_ms'),
    wall_ms_p50: of(median, 'wall_ms'),
    cpu_ms_p90: of((xs) => percentile(xs, 90), 'cpu_ms'),
    wall_ms_p90: of((xs) => percentile(xs, 90), 'wall_ms'),
  };
}

// ---- the run ----

function versions(setup: Setup): Record<string, string> {
  const version = (from: string, name: string) => {
    try {
      const load = createRequire(join(from, 'package.json'));
      // Packages whose exports hide package.json: the file itself, found beside their entry point.
      const entry = load.resolve(name);
      const root = entry.slice(0, entry.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
      return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  const found: Record<string, string> = { node: process.version, '@grpc/grpc-js': version(REPO, '@grpc/grpc-js'), protobufjs: version(REPO, 'protobufjs') };
  if (setup.connectDir) {
    for (const name of ['@connectrpc/connect', '@connectrpc/connect-node', '@bufbuild/protobuf']) found[name] = version(setup.connectDir, name);
  }
  return found;
}

export async function transportBench(calls: number, connectDir?: string): Promise<TransportResult> {
  const socketDir = join(tmpdir(), `vic-bench-grpc-${process.pid}`);
  mkdirSync(socketDir, { recursive: true });
  if (connectDir && !existsSync(join(connectDir, 'gen', 'tfplugin6_pb.js'))) {
    throw new Error(`--connect ${connectDir}: no gen/tfplugin6_pb.js there; make it as this file's header says`);
  }
  const rounds: Partial<Record<Transport, number>>[] = [];
  const walls: Partial<Record<Transport, number>>[] = [];
  const transports: Transport[] = connectDir ? ['grpc-js', 'node-http2', 'connect-node', 'connect-node-gzip', 'node-http2-es'] : ['grpc-js', 'node-http2'];
  try {
    const protocolStatic = join(socketDir, 'protocol-static.js');
    execFileSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'scripts/build-protocol.ts'), protocolStatic], { stdio: 'inherit' });
    const setup: Setup = { protocolStatic, connectDir: connectDir && resolve(connectDir) };
    for (let r = 0; r < ROUNDS; r++) {
      const order = transports.map((_, i) => transports[(i + r) % transports.length]);
      const cpu: Partial<Record<Transport, number>> = {};
      const wall: Partial<Record<Transport, number>> = {};
      for (const t of order) {
        const m = await measure(t, calls, socketDir, setup);
        cpu[t] = round(m.cpuUs);
        wall[t] = round(m.wallMs);
      }
      progress(`grpc transport round ${r + 1}: server CPU per call (µs) ${JSON.stringify(cpu)}`);
      rounds.push(cpu);
      walls.push(wall);
    }
    const load = setup.connectDir ? await loadCost(socketDir, setup) : undefined;
    if (load) progress(`load: CPU p50 ${JSON.stringify(load.cpu_ms_p50)} ms, wall p50 ${JSON.stringify(load.wall_ms_p50)} ms`);
    const mid = (k: Transport) => median(rounds.map((x) => x[k]!));
    const perCall = Object.fromEntries(transports.map((t) => [t, mid(t)]));
    return {
      benchmark: 'grpc-transport',
      description: `server CPU (user + system) per unary ${METHOD} call with a 1.5 KB state, ${IN_FLIGHT} in flight, the same grpc-js client: grpc-js with the provider's protobufjs static code, a minimal gRPC server on node:http2 with the same codec${connectDir ? ', @connectrpc/connect-node (gRPC protocol) with @bufbuild/protobuf, compression off and (connect-node-gzip) its default gzip of replies over 1 KB, and the minimal server with @bufbuild/protobuf' : ''}; plaintext unix socket, medians of ${ROUNDS} rounds, order rotated`,
      calls,
      request_bytes: 1500,
      server_cpu_us_per_call: perCall,
      wall_ms: Object.fromEntries(transports.map((t) => [t, median(walls.map((x) => x[t]!))])),
      ratio_grpc_js_over_http2: ratio(mid('grpc-js'), mid('node-http2')),
      ...(connectDir ? { ratio_connect_node_over_grpc_js: ratio(mid('connect-node'), mid('grpc-js')) } : {}),
      rounds,
      ...(load ? { load } : {}),
      versions: versions(setup),
    };
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
}

function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === '--serve') {
    void serverMain(args[1] as Transport, args[2], { protocolStatic: args[3], connectDir: args[4] || undefined });
  } else {
    const calls = Number(option(args, '--calls') ?? 5000);
    transportBench(calls, option(args, '--connect'))
      .then((result) => {
        const out = resolve(__dirname, 'results');
        if (!existsSync(out)) mkdirSync(out, { recursive: true });
        writeFileSync(join(out, 'grpc-transport.json'), `${JSON.stringify({ ...result, measured_at: new Date().toISOString() }, null, 2)}\n`);
        process.stdout.write(
          `${JSON.stringify(result.server_cpu_us_per_call)} µs server CPU per call; grpc-js / node:http2 = ${result.ratio_grpc_js_over_http2}×` +
            (result.ratio_connect_node_over_grpc_js ? `; connect-node / grpc-js = ${result.ratio_connect_node_over_grpc_js}×` : '') +
            (result.load ? `\nload p50: CPU ${JSON.stringify(result.load.cpu_ms_p50)} ms, wall ${JSON.stringify(result.load.wall_ms_p50)} ms` : '') +
            '\n',
        );
      })
      .catch((err: unknown) => {
        process.stderr.write(`grpc transport bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      });
  }
}
