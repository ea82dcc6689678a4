/** `vic endpoint serve | certs | env`: the CLI side of the Docker endpoint. */
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import type { ConnectionSettings } from '../resources';
import { CliError, EXIT, processAlive, type CliContext } from '../cli/context';
import { PLAIN_PORT, TLS_PORT, certificateFiles, endpointStateDir, envLines, generateCertificates, readServerTls } from './certs';
import { endpointRecordFile, serveEndpoint, writeEndpointRecord } from './serve';

function dirOf(opts: Record<string, unknown>): string {
  return typeof opts.dir === 'string' ? opts.dir : endpointStateDir();
}

function parseListen(text: string | undefined, plain: boolean): { host: string; port: number } {
  const fallback = { host: '127.0.0.1', port: plain ? PLAIN_PORT : TLS_PORT };
  if (!text) return fallback;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--listen ${text}: expected host:port, e.g. 127.0.0.1:2376 or 0.0.0.0:2376`, EXIT.usage);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** --start-wait in ms: whole seconds, 0 or more; absent: the endpoint's default. */
function parseStartWait(text: unknown): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(seconds)) {
    throw new CliError(`--start-wait ${String(text)}: give whole seconds, 0 or more (0: docker start returns at the power-on)`, EXIT.usage);
  }
  return seconds * 1000;
}

/**
 * --start-wait's default: the endpoint's, except against the embedded simulator started with
 * --no-guests (vic sim start), where no process ever reports running: there a start returns at the
 * power-on, and the endpoint says so.
 */
async function defaultStartWait(ctx: CliContext, settings: ConnectionSettings): Promise<number | undefined> {
  const { runningSimulator, simulatorStateDir } = await import('../cli/embedded-simulator');
  const sim = await runningSimulator(simulatorStateDir()).catch(() => undefined);
  const host = (url: string) => {
    try {
      return new URL(url).host;
    } catch {
      return undefined;
    }
  };
  if (!sim || sim.guests !== false || host(sim.url) === undefined || host(sim.url) !== host(settings.url)) return undefined;
  ctx.err(`the embedded simulator at ${sim.url} runs no guests (vic sim start --no-guests): docker start returns at the power-on (--start-wait 0)\n`);
  return 0;
}

export async function serveEndpointCommand(ctx: CliContext, opts: Record<string, unknown>, settings: ConnectionSettings, version: string): Promise<number> {
  const plain = opts.plainHttp === true;
  const askedWaitMs = parseStartWait(opts.startWait);
  const dir = dirOf(opts);
  const { host, port } = parseListen(opts.listen as string | undefined, plain);
  refuseLiveRecord(dir, opts.dir !== undefined);
  let tls;
  try {
    tls = plain ? undefined : readServerTls(dir);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  const startWaitMs = askedWaitMs ?? (await defaultStartWait(ctx, settings));
  const { connectEngine } = await import('../engine');
  const engine = await connectEngine(settings);
  let running;
  try {
    running = await serveEndpoint({
      engine,
      vch: String(opts.vch),
      host,
      port,
      tls,
      insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
      version,
      stateDir: dir,
      startWaitMs,
      log: (line) => ctx.err(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (err) {
    await engine.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(
        `${host}:${port} is already in use (another endpoint? "vic endpoint env" names the one this directory records): stop it, use it, or pass --listen ${host}:<another port> (0 picks a free one)`,
        EXIT.failure,
      );
    }
    throw new CliError((err as Error).message, EXIT.failure);
  }
  writeEndpointRecord(dir, running, process.pid);
  ctx.out(
    `Docker endpoint for VCH "${String(opts.vch)}" on ${running.tls ? 'https' : 'http'}://${host}:${running.port}${running.tls ? ' (mutual TLS)' : ''}\n`,
  );
  ctx.out(`Point the docker CLI at it with: eval "$(vic endpoint env${opts.dir ? ` --dir ${dir}` : ''})"\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  removeOwnRecord(dir);
  await running.close();
  await engine.close();
  return EXIT.ok;
}

export async function certsCommand(ctx: CliContext, opts: Record<string, unknown>): Promise<void> {
  const dir = dirOf(opts);
  const hosts = (opts.host as string[] | undefined) ?? ['localhost', '127.0.0.1'];
  const existing = certificateFiles(dir);
  // A second `certs` (the README's steps after `npm run demo`, say) would cut off a running endpoint
  // and every client holding the old bundle: new certificates only when asked for.
  if (opts.force !== true && existsSync(existing.caCert)) {
    if (opts.host !== undefined) {
      throw new CliError(
        `${dir} already holds the endpoint's CA and certificates, which a running endpoint and its clients may use; nothing written. ` +
          `To make new ones for --host ${hosts.join(' ')}, pass --force (then restart the endpoint and hand out the new client bundle), or use --dir for another set.`,
        EXIT.usage,
      );
    }
    ctx.out(
      `Kept the CA, server certificate and client bundle already in ${dir} (made ${statSync(existing.caCert).mtime.toISOString()}): an endpoint and its clients may use them. --force makes new ones.\n`,
    );
    ctx.out(`Client bundle (DOCKER_CERT_PATH): ${existing.clientDir}\nEnv file: ${existing.envFile}\n`);
    return;
  }
  const files = await generateCertificates(dir, { hosts, port: Number(opts.port ?? TLS_PORT) });
  ctx.out(`CA, server certificate (SANs: ${hosts.join(', ')}) and client bundle written to ${dir}\n`);
  ctx.out(`Client bundle (DOCKER_CERT_PATH): ${files.clientDir}\nEnv file: ${files.envFile}\n`);
}

interface EndpointRecord {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly certPath?: string;
  readonly pid?: number;
}

function readRecord(dir: string): EndpointRecord | undefined {
  try {
    return JSON.parse(readFileSync(endpointRecordFile(dir), 'utf8')) as EndpointRecord;
  } catch {
    return undefined;
  }
}

/**
 * One running endpoint per directory: its record is what `vic endpoint env` points docker at, and a
 * second endpoint writing its own would leave the first unrecorded once the second stops.
 */
function refuseLiveRecord(dir: string, dirGiven: boolean): void {
  const r = readRecord(dir);
  if (!r || typeof r.pid !== 'number' || r.pid === process.pid || !processAlive(r.pid)) return;
  throw new CliError(
    `an endpoint already runs from ${dir} (pid ${r.pid}, ${r.tls ? 'https' : 'http'}://${r.host}:${r.port}; recorded in ${endpointRecordFile(dir)}): ` +
      `use it (eval "$(vic endpoint env${dirGiven ? ` --dir ${dir}` : ''})"), stop it first (kill ${r.pid}), or serve another endpoint from another directory: ` +
      `vic endpoint certs --dir <path>, then vic endpoint serve --dir <path> --listen 127.0.0.1:<another port>`,
    EXIT.failure,
  );
}

/** An endpoint that stops takes its record with it, unless another endpoint has written its own since. */
function removeOwnRecord(dir: string): void {
  if (readRecord(dir)?.pid !== process.pid) return;
  try {
    unlinkSync(endpointRecordFile(dir));
  } catch {
    // Already gone.
  }
}

export function envCommand(ctx: CliContext, opts: Record<string, unknown>): void {
  const dir = dirOf(opts);
  const r = readRecord(dir);
  if (r && typeof r.pid === 'number' && !processAlive(r.pid)) {
    throw new CliError(
      `the endpoint recorded in ${endpointRecordFile(dir)} (pid ${r.pid}, port ${r.port}) is not running (killed, or the machine restarted): start it again with "vic endpoint serve --vch <name>"${opts.dir ? ` --dir ${dir}` : ''}`,
      EXIT.failure,
    );
  }
  if (r) {
    // A wildcard listener is reached through loopback from this machine.
    const host = r.host === '0.0.0.0' || r.host === '::' ? '127.0.0.1' : r.host;
    ctx.out(`${envLines({ host, port: r.port, tls: r.tls, certPath: r.certPath }).join('\n')}\n`);
    return;
  }
  const envFile = certificateFiles(dir).envFile;
  if (existsSync(envFile)) {
    ctx.out(readFileSync(envFile, 'utf8'));
    return;
  }
  throw new CliError(`no endpoint in ${dir}: make certificates with "vic endpoint certs", then start it with "vic endpoint serve --vch <name>"`, EXIT.usage);
}
