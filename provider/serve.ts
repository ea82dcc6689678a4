/**
 * The plugin process: go-plugin handshake, AutoMTLS, a unix socket, and the gRPC services Terraform
 * expects next to tfplugin6.Provider (GRPCController, GRPCStdio, GRPCBroker, health).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import type { Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { transportSecurity } from './auto-mtls';
import { Logger } from './log';
import { type Protocol, loadProtocol, serviceDefinition } from './protocol';
import { VicProvider } from './provider';

/** From Terraform's plugin6 serve.go; go-plugin refuses to start a plugin without it. */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
export const PROTOCOL_VERSION = 6;

type Unary = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

export interface ServeOptions {
  readonly provider: VicProvider;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the handshake line goes; stdout in the real plugin. */
  readonly announce?: (line: string) => void;
  /** Called after Shutdown (or SIGTERM) has closed the server; the real plugin exits here. */
  readonly onExit?: () => void;
}

export interface RunningPlugin {
  readonly address: string;
  readonly handshake: string;
  shutdown(): Promise<void>;
}

export function checkMagicCookie(env: NodeJS.ProcessEnv): string | undefined {
  if (env[MAGIC_COOKIE_KEY] === MAGIC_COOKIE_VALUE) return undefined;
  return (
    'This binary is a plugin. These are not meant to be executed directly.\n' +
    'Please execute the program that consumes these plugins, which will load any plugins automatically.\n' +
    '(terraform-provider-vic is the vic-iac Terraform provider: see docs/terraform.md to install it.)\n'
  );
}

/** go-plugin offers a list ("5,6", in any order); this provider speaks 6 only. */
export function negotiateProtocol(env: NodeJS.ProcessEnv): number | undefined {
  const offered = (env.PLUGIN_PROTOCOL_VERSIONS ?? String(PROTOCOL_VERSION)).split(',').map((v) => Number(v.trim()));
  return offered.includes(PROTOCOL_VERSION) ? PROTOCOL_VERSION : undefined;
}

export async function serve(opts: ServeOptions): Promise<RunningPlugin> {
  const env = opts.env ?? process.env;
  const { logger, provider } = opts;
  // Loaded here so that a cookie mismatch or a unit test of the rest never pays for grpc.
  const grpcJs = await import('@grpc/grpc-js');
  const protocol = loadProtocol();

  // Terraform accepts schemas up to 64 MiB and go-plugin sets no limit: neither do we.
  // Channelz tracks every call for introspection tools nobody attaches to a plugin: CPU for nothing.
  const server = new grpcJs.Server({ 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1, 'grpc.enable_channelz': 0 });
  server.addService(serviceDefinition(protocol, 'tfplugin6.Provider'), providerHandlers(provider, logger, grpcJs.status.INTERNAL));

  const socketDir = env.PLUGIN_UNIX_SOCKET_DIR || tmpdir();
  const socketPath = join(socketDir, `plugin${randomBytes(6).toString('hex')}.sock`);
  const security = await transportSecurity(env, (reason) => logger.log('warn', 'refused a connection to the plugin socket', { reason }));
  // The socket is ours, not grpc-js's: with TLS, only a connection from the client Terraform named
  // reaches gRPC (auto-mtls.ts), so grpc-js serves plain HTTP/2 over the stream it is handed.
  const injector = server.createConnectionInjector(grpcJs.ServerCredentials.createInsecure());
  const listener = await security.listen(socketPath, (socket) => injector.injectConnection(socket));
  const shutdown = shutdownOnce(server, listener, socketPath, opts);
  addPluginServices(server, protocol, shutdown);

  // Only when bound: go-plugin dials as soon as it reads the line. Never a 7th field (go-plugin 1.4 splits into 6).
  const handshake = `1|${PROTOCOL_VERSION}|unix|${socketPath}|grpc|${security.handshakeField}`;
  (opts.announce ?? ((line) => process.stdout.write(`${line}\n`)))(handshake);
  logger.log('debug', 'plugin listening', { address: socketPath, tls: security.handshakeField !== '', certificate: security.certificate });
  return { address: socketPath, handshake, shutdown };
}

/** tfplugin6.Provider: each RPC answered by the provider, timed at trace level; a throw becomes INTERNAL. */
function providerHandlers(provider: VicProvider, logger: Logger, internal: grpc.status): Record<string, Unary> {
  const unary =
    (name: string, fn: (req: never) => unknown): Unary =>
    (call, callback) => {
      const started = Date.now();
      const typeName = (call.request as { type_name?: string }).type_name;
      Promise.resolve()
        .then(() => fn(call.request as never))
        .then(
          (res) => {
            logger.log('trace', `served ${name}`, { rpc: name, type: typeName, ms: Date.now() - started });
            callback(null, res);
          },
          (err: unknown) => {
            logger.log('error', `${name} failed`, { rpc: name, type: typeName, error: err instanceof Error ? err.message : String(err) });
            callback({ code: internal, details: err instanceof Error ? err.message : String(err) });
          },
        );
    };
  return {
    GetProviderSchema: unary('GetProviderSchema', () => provider.getProviderSchema()),
    ValidateProviderConfig: unary('ValidateProviderConfig', (r) => provider.validateProviderConfig(r)),
    ValidateResourceConfig: unary('ValidateResourceConfig', (r) => provider.validateResourceConfig(r)),
    ValidateDataResourceConfig: unary('ValidateDataResourceConfig', (r) => provider.validateDataResourceConfig(r)),
    UpgradeResourceState: unary('UpgradeResourceState', (r) => provider.upgradeResourceState(r)),
    ConfigureProvider: unary('ConfigureProvider', (r) => provider.configureProvider(r)),
    ReadResource: unary('ReadResource', (r) => provider.readResource(r)),
    PlanResourceChange: unary('PlanResourceChange', (r) => provider.planResourceChange(r)),
    ApplyResourceChange: unary('ApplyResourceChange', (r) => provider.applyResourceChange(r)),
    ImportResourceState: unary('ImportResourceState', (r) => provider.importResourceState(r)),
    ReadDataSource: unary('ReadDataSource', (r) => provider.readDataSource(r)),
    StopProvider: unary('StopProvider', () => provider.stopProvider()),
  };
}

/** Closes the engine, then the server, then removes the socket; once, however often it is asked. */
function shutdownOnce(server: grpc.Server, listener: NetServer, socketPath: string, opts: ServeOptions): () => Promise<void> {
  const { logger, provider } = opts;
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      logger.log('debug', 'shutting down');
      await provider.close().catch((err: unknown) => logger.log('warn', 'engine close failed', { error: String(err) }));
      listener.close();
      // Graceful first, so the Shutdown reply itself reaches go-plugin (a cancelled reply makes it
      // SIGKILL us); streams left open (the broker) are cut after a second.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      if (existsSync(socketPath)) unlinkSync(socketPath);
      opts.onExit?.();
    })();
    return closing;
  };
}

/** The go-plugin services beside the provider: controller (Shutdown), stdio, broker and health. */
function addPluginServices(server: grpc.Server, protocol: Protocol, shutdown: () => Promise<void>): void {
  server.addService(serviceDefinition(protocol, 'plugin.GRPCController'), {
    // Reply first: go-plugin waits for the answer, then for the process to go (2 s), then kills it.
    Shutdown: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
      callback(null, {});
      setImmediate(() => void shutdown());
    },
  });
  server.addService(serviceDefinition(protocol, 'plugin.GRPCStdio'), {
    // Logs go to stderr, which go-plugin already reads; nothing to relay, so end the stream at once.
    StreamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
  });
  server.addService(serviceDefinition(protocol, 'plugin.GRPCBroker'), {
    // No sub-plugins are brokered; drain the client's stream and close ours when it closes.
    StartStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.on('data', () => undefined);
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  server.addService(serviceDefinition(protocol, 'grpc.health.v1.Health'), {
    Check: (call: grpc.ServerUnaryCall<{ service?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const service = call.request.service ?? '';
      callback(null, { status: service === '' || service === 'plugin' ? 'SERVING' : 'SERVICE_UNKNOWN' });
    },
  });
}
