/**
 * Entry point of terraform-provider-vic. Terraform starts a fresh process for every phase, so this
 * loads only what the handshake needs; the engine and the vSphere client load on first use.
 */
import type { Engine } from '../src/engine';
import { loadSideBundle } from './code-cache';
import { ConnectionSettings } from '../src/resources';
import { Logger, stderrLogger } from './log';
import { VicProvider } from './provider';
import { checkMagicCookie, negotiateProtocol, serve } from './serve';
import { restoreExtraCaCertsForChildren } from '../src/extra-ca-certs';

/**
 * The engine (and with it the vSphere client) loads on first use: `terraform validate` and schema
 * reads never pay for it. SOAP calls are logged at trace level, by method and object only.
 */
function engineConnector(logger: Logger) {
  return async (settings: ConnectionSettings): Promise<Engine> => {
    const { connectEngine } = loadSideBundle<typeof import('./engine-entry')>(
      'engine-entry.js',
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the source tree, where no bundle exists
      () => require('./engine-entry'),
    );
    return connectEngine(settings, {
      log: (e) =>
        logger.log(e.error ? 'debug' : 'trace', `vSphere ${e.method}`, {
          object: e.object,
          status: e.status,
          ms: Math.round(e.durationMs),
          attempt: e.attempt,
          error: e.error,
        }),
      onRefreshRead: (r) => logger.log('debug', 'refresh inventory read', { pools: r.pools, vms: r.vms }),
    });
  };
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const refusal = checkMagicCookie(env);
  if (refusal) {
    process.stderr.write(refusal);
    process.exit(1);
  }
  if (negotiateProtocol(env) === undefined) {
    process.stderr.write(
      `terraform-provider-vic speaks plugin protocol 6; the client offered ${env.PLUGIN_PROTOCOL_VERSIONS}. Use Terraform >= 1.0 or OpenTofu.\n`,
    );
    process.exit(1);
  }
  // The launcher deferred NODE_EXTRA_CA_CERTS (src/extra-ca-certs.ts); children get it back.
  restoreExtraCaCertsForChildren(env);
  // stdout carries the handshake line and nothing else: a stray console.log would break the client.
  console.log = console.error;
  console.info = console.error;
  // go-plugin "eats the interrupts": Terraform sends SIGINT to the process group, then StopProvider.
  process.on('SIGINT', () => undefined);
  const logger = stderrLogger(env);
  const provider = new VicProvider({ connect: engineConnector(logger), logger, env });
  const running = await serve({ provider, logger, env, onExit: () => process.exit(0) });
  process.on('SIGTERM', () => void running.shutdown());
}

/** Runs the plugin; a failure to start is printed for Terraform to show, and the process exits 1. */
export function start(): void {
  main().catch((err: unknown) => {
    process.stderr.write(`terraform-provider-vic failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

if (require.main === module) start();
