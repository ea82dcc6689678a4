/**
 * The test bed of the Docker endpoint suites: a simulator (guests really run in QEMU when asked), a
 * registry holding a small busybox image, a VCH applied through the engine, the endpoint served
 * in-process with mutual TLS (certificates from `vic endpoint certs`' generator), and the real
 * docker CLI pointed at it with DOCKER_HOST / DOCKER_CERT_PATH / DOCKER_TLS_VERIFY, as a user would.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../src/engine';
import { VsphereEngine } from '../../src/engine/engine';
import { certificateFiles, generateCertificates, readServerTls } from '../../src/endpoint/certs';
import { serveEndpoint, type RunningEndpoint, type ServeOptions } from '../../src/endpoint/serve';
import type { Attrs } from '../../src/resources';
import { lifecycles } from '../../src/resources/lifecycle-registry';
import type { RunningSimulator, SimulatorOptions } from '../../src/sim/simulator';
import { VimClient, moRef, type SoapLogEvent } from '../../src/vsphere';
import { listDatastoreDirectory } from '../../src/vsphere/datastore-browser';
import { connectTestClient, defaultDatastore, settingsFor } from '../helpers/engine';
import type { ImageSpec } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { probeRootfsEntries } from '../boot/probe-image';
import { runProcess, type VicRun } from '../cli/run-vic';

/** A busybox image with `true` and `false`: the containers exit at once (boots are slow under TCG). */
export function busyboxImage(): ImageSpec {
  return {
    layers: [
      {
        entries: [
          ...probeRootfsEntries(),
          ...['true', 'false', 'wc', 'date', 'seq'].map((applet) => ({ type: 'symlink' as const, path: `bin/${applet}`, target: 'busybox' })),
        ],
      },
    ],
    config: { Cmd: ['sh', '-c', 'echo hello from a container VM'], Env: ['PATH=/bin'], Labels: { 'org.example.image': 'busybox' } },
  };
}

export const IMAGE_REPO = 'vic-test/busybox:1';

/**
 * `docker events ARGS` left running against the bed's endpoint: the lines it printed so far, whole
 * ones only, and a stop. It asks from a second before the call (`--since`), so that an event of a
 * command run right after the call is told even when it comes before the stream is open.
 */
export function followEvents(bed: DockerBed, args: readonly string[]): { readonly lines: string[]; stop(): void } {
  const lines: string[] = [];
  let partial = '';
  const events = spawn(dockerCli(), ['events', '--since', String(Math.floor(Date.now() / 1000) - 1), ...args], { env: bed.env });
  events.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  return { lines, stop: () => void events.kill() };
}

/** The docker CLI's path. */
export function dockerCli(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the docker CLI is not installed: it is preinstalled at /usr/local/bin/docker, else apt-get install docker.io');
  }
}

export interface DockerBed {
  readonly engine: Engine;
  readonly vch: Attrs;
  readonly endpoint: RunningEndpoint;
  /** `127.0.0.1:<port>/vic-test/busybox:1`, pushed to the registry (not pulled yet). */
  readonly image: string;
  readonly registryHost: string;
  /** Push another image to the bed's registry: its reference (`<registry>/<repository:tag>`). */
  pushImage(image: ImageSpec, repositoryAndTag: string): Promise<string>;
  readonly certDir: string;
  readonly sim: RunningSimulator;
  /** The endpoint's --insecure-registry list (the bed's registry); a test may add its own. */
  readonly insecureRegistries: string[];
  /** The vSphere password the endpoint logs in with: no answer may show it. */
  readonly vspherePassword: string;
  /** The environment that points the docker CLI at the endpoint. */
  readonly env: NodeJS.ProcessEnv;
  docker(args: readonly string[], options?: { timeoutMs?: number; input?: string | Buffer; keepStdinOpen?: boolean }): Promise<VicRun>;
  /** A docker command that must succeed (exit 0, nothing on stderr): its output, trimmed. */
  dockerOk(args: readonly string[]): Promise<string>;
  /** `docker events` from `since` (seconds) until now, with one --filter and a --format: its lines. */
  eventsSince(since: number, filter: string, format: string): Promise<string[]>;
  /** Another endpoint over the bed's VCH and certificates, on a free port unless told: the caller closes it. */
  serve(options?: Partial<ServeOptions>): Promise<RunningEndpoint>;
  /**
   * A raw API request over mutual TLS with the client bundle: a second client, for what the docker
   * CLI hides or does not send. To the bed's endpoint, or to one `serve` made on `port`.
   */
  call(method: string, path: string, body?: unknown, port?: number, headers?: Record<string, string>): Promise<ApiReply>;
}

export interface ApiReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface BedOptions {
  readonly sim?: SimulatorOptions;
  /** Pull the image through the endpoint in beforeAll. */
  readonly pull?: boolean;
  readonly vchName?: string;
}

export function useDockerBed(options: BedOptions = {}): () => DockerBed {
  const sim = useSimulator(options.sim ?? {});
  const registry = useRegistry();
  let bed: DockerBed | undefined;
  let scratch: string | undefined;
  beforeAll(async () => {
    const iso = await ensureBootstrapIso();
    const engine = await connectEngine(settingsFor(sim()), { bootstrapIsoFile: iso });
    scratch = await mkdtemp(join(tmpdir(), 'vic-endpoint-test-'));
    await registry().pushImage(busyboxImage(), IMAGE_REPO);
    const plan = await engine.plan('virtual_container_host', null, {
      name: options.vchName ?? 'vch-docker',
      compute: '/DC0/host/DC0_C0',
      datastore: 'LocalDS_0',
      bridge_network: 'VM Network',
    });
    expect(plan.problems).toEqual([]);
    const vch = (await engine.apply(plan)) as Attrs;
    const certDir = join(scratch, 'certs');
    await generateCertificates(certDir, { hosts: ['localhost', '127.0.0.1'], port: 0 });
    const insecureRegistries = [registry().host];
    const serve = (o: Partial<ServeOptions> = {}) =>
      serveEndpoint({
        engine,
        vch: String(vch.name),
        host: '127.0.0.1',
        port: 0,
        tls: readServerTls(certDir),
        insecureRegistries,
        version: '0.0.0-test',
        // Without guests nothing reports a process running: a start returns at the power-on.
        ...(options.sim?.runGuests ? {} : { startWaitMs: 0 }),
        // The endpoint's own log, for a failure to be read after the fact: VIC_TEST_ENDPOINT_LOG=<file>.
        ...(process.env.VIC_TEST_ENDPOINT_LOG
          ? { log: (line: string) => appendFileSync(String(process.env.VIC_TEST_ENDPOINT_LOG), `${new Date().toISOString()} ${line}\n`) }
          : {}),
        ...o,
      });
    const endpoint = await serve({ pollMs: 500 });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: scratch,
      DOCKER_CONFIG: join(scratch, 'docker-config'),
      DOCKER_HOST: `tcp://127.0.0.1:${endpoint.port}`,
      DOCKER_CERT_PATH: certificateFiles(certDir).clientDir,
      DOCKER_TLS_VERIFY: '1',
      NO_COLOR: '1',
    };
    const cli = dockerCli();
    const dockerOk = async (args: readonly string[]): Promise<string> => {
      const r = await runProcess(cli, args, env, { timeoutMs: 120_000 });
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      return r.stdout.trim();
    };
    bed = {
      engine,
      vch,
      endpoint,
      image: `${registry().host}/${IMAGE_REPO}`,
      registryHost: registry().host,
      pushImage: async (spec, repositoryAndTag) => {
        await registry().pushImage(spec, repositoryAndTag);
        return `${registry().host}/${repositoryAndTag}`;
      },
      certDir,
      vspherePassword: sim().password,
      sim: sim(),
      insecureRegistries,
      env,
      docker: (args, o = {}) => runProcess(cli, args, env, { ...o, timeoutMs: o.timeoutMs ?? 120_000 }),
      dockerOk,
      eventsSince: async (since, filter, format) => {
        const until = Math.floor(Date.now() / 1000) + 1;
        const text = await dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', filter, '--format', format]);
        return text.split('\n').filter(Boolean);
      },
      serve,
      call: (method, path, body, port = endpoint.port, headers = {}) => {
        const client = certificateFiles(certDir).clientDir;
        return new Promise((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              method,
              path,
              ca: readFileSync(join(client, 'ca.pem')),
              cert: readFileSync(join(client, 'cert.pem')),
              key: readFileSync(join(client, 'key.pem')),
              servername: 'localhost',
              headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
            },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString('utf8')));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
            },
          );
          req.on('error', reject);
          req.end(body === undefined ? undefined : JSON.stringify(body));
        });
      },
    };
    if (options.pull) {
      const pulled = await bed.docker(['pull', bed.image], { timeoutMs: 180_000 });
      expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: '' });
    }
  }, 300_000);
  afterAll(async () => {
    await bed?.endpoint.close();
    await bed?.engine.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, 60_000);
  return () => {
    if (!bed) throw new Error('useDockerBed: not ready (use the getter inside a test, after beforeAll)');
    return bed;
  };
}

/**
 * Waits until the guest reports the container's process running (a boot takes seconds under TCG):
 * a container VM powered off before its process ever ran reads as a killed one (Exited (137)), not with its process's own end.
 */
export async function waitUntilProcessRuns(bed: DockerBed, name: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await bed.docker(['inspect', '--format', '{{.State.Status}} {{.State.StartedAt}}', name])).stdout.trim();
    if (/^running \d{4}-/.test(last) && !last.startsWith('running 0001-')) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`container ${name}'s process did not start within ${timeoutMs} ms (last: ${last})`);
}

/** Waits until `check` holds, looking every half second; past `timeoutMs` it fails saying what it waited for, with the launcher's last lines. */
export async function eventually(bed: DockerBed, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: still not so after ${timeoutMs / 1000} s\nlauncher log:\n${bed.sim.logTail()}`);
}

/** An engine on its own session whose SOAP calls (with their bodies) are kept in `calls`: to count what a request asks of vSphere. */
export async function loggedEngine(sim: RunningSimulator): Promise<{ calls: SoapLogEvent[]; engine: VsphereEngine }> {
  const calls: SoapLogEvent[] = [];
  const client = await VimClient.connect({
    url: sim.url,
    username: sim.username,
    password: sim.password,
    thumbprint: sim.thumbprint,
    log: (e) => calls.push(e),
    logBodies: true,
  });
  return { calls, engine: new VsphereEngine(client, { lifecycles }) };
}

/** A SOAP call that reads VMs in bulk (a container view of VMs, or a traversal to them) rather than one named VM. */
export function readsVmsInBulk(call: SoapLogEvent): boolean {
  const xml = call.requestXml ?? '';
  if (call.method === 'CreateContainerView') return /VirtualMachine/.test(xml);
  return /^(Retrieve|ContinueRetrieve)Properties/.test(call.method) && /<type>VirtualMachine<\/type>/.test(xml) && /TraversalSpec/.test(xml);
}

/** The folders of the VCH's store's containers/ directory, as vSphere lists them: a container VM's files go with its docker rm. */
export async function containerFolders(bed: DockerBed): Promise<string[]> {
  const outside = await connectTestClient(bed.sim);
  try {
    const { ds } = await defaultDatastore(outside);
    const entries = await listDatastoreDirectory(outside, moRef('Datastore', ds.ref.value), `[${ds.name}] ${String(bed.vch.image_store_path)}/containers`);
    return (entries ?? []).map((e) => e.name).sort();
  } finally {
    await outside.close();
  }
}

/** A TCP port free on every address now (a host port for -p). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The body of a GET of `url` that answers 2xx within 3 s, else undefined. */
export async function httpText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}
