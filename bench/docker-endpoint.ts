/**
 * The Docker endpoint (`vic endpoint`) driven by the real docker CLI, against raw vSphere work in
 * the same run, on a simulator with guests off:
 *  - `docker ps -a` over N container VMs vs one raw property-collector read of those VMs (name,
 *    config.uuid, runtime.powerState, config.extraConfig) plus a Node start (`node -e 0`): what any
 *    client written in Node that reads vSphere itself pays. Round trips of one `docker ps -a` are
 *    counted at the simulator at each N: they must not grow with N.
 *  - `docker run -d` (the VM created and powered on) vs a raw CreateVM_Task + PowerOnVM_Task of a VM
 *    with the same devices, through src/vsphere on an already logged-in client, two ways: the
 *    endpoint's own latency (the create and start requests the CLI sends, from a client already
 *    connected, as dockerd's latency is measured: the goal), and the whole CLI command against the
 *    raw work plus `docker version` (what the docker CLI costs by itself).
 * The endpoint runs in this process with mutual TLS, as the endpoint tests' bed serves it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { connectEngine, type Engine } from '../src/engine';
import { certificateFiles, generateCertificates, readServerTls } from '../src/endpoint/certs';
import { API_VERSION } from '../src/endpoint/protocol';
import { serveEndpoint } from '../src/endpoint/serve';
import type { Attrs } from '../src/resources';
import type { SimulatorStats } from '../src/sim/control';
import type { RunningSimulator } from '../src/sim/simulator';
import { moRef, VimClient } from '../src/vsphere';
import { retrieveFromContainer } from '../src/vsphere/property-collector';
import { runProcess } from '../test/cli/run-vic';
import { rawCreateVm, rawPlacement, withConcurrency } from './apply-throughput';
import { median, progress, ratio, round, timedMs } from './figures';

export const PS_GOAL_LIMIT = 1.5;
export const RUN_GOAL_LIMIT = 1.3;
// The listing is one batched read whatever N: any extra call at the larger N fails the goal.
const ROUND_TRIP_TOLERANCE = 0;

export interface DockerPsPoint {
  readonly n: number;
  readonly ps_ms: readonly number[];
  readonly ps_p50: number;
  readonly node_start_p50: number;
  readonly raw_read_p50: number;
  /** node_start_p50 + raw_read_p50 */
  readonly baseline_p50: number;
  readonly ratio_ps_over_baseline: number;
  /** SOAP calls the simulator answered during one `docker ps -a`. */
  readonly round_trips: number;
  readonly round_trips_by_method: Readonly<Record<string, number>>;
}

export interface DockerResult {
  readonly benchmark: 'docker-endpoint';
  readonly description: string;
  readonly ps: {
    readonly repeats: number;
    readonly points: readonly DockerPsPoint[];
    readonly goal: { readonly met: boolean; readonly limit: number; readonly ratio: number; readonly n: number };
    readonly round_trips_constant: {
      readonly met: boolean;
      readonly smallest_n: number;
      readonly largest_n: number;
      readonly trips_smallest: number;
      readonly trips_largest: number;
    };
  };
  /**
   * With the smallest N of containers present; the goal is taken here, on the endpoint's own
   * latency (`ratio_endpoint_over_raw`): the docker CLI alone costs more than the raw work.
   */
  readonly run: DockerRunPoint & { readonly goal: { readonly met: boolean; readonly limit: number; readonly ratio: number } };
  /** The same with the largest N present (informative, a few runs). */
  readonly run_at_largest_n?: DockerRunPoint;
}

export interface DockerRunPoint {
  /** Containers in the VCH when the first timed run started. */
  readonly containers_present: number;
  readonly runs: number;
  readonly docker_run_ms: readonly number[];
  readonly raw_ms: readonly number[];
  readonly docker_run_p50: number;
  readonly raw_p50: number;
  readonly ratio_run_over_raw: number;
  /**
   * The endpoint alone: POST /containers/create then POST /containers/{id}/start, the requests
   * `docker run -d` sends, from a client in a worker thread whose TLS connection is open, first
   * byte sent to the start's answer.
   */
  readonly endpoint_ms: readonly number[];
  readonly endpoint_p50: number;
  /**
   * CPU of the endpoint's thread (the main thread: the requests are sent from a worker thread,
   * whose CPU is not in it) during those two requests, p50; and of the raw work's client, which
   * runs on the main thread too. Linux schedstat; the figure a loaded machine moves least.
   */
  readonly endpoint_cpu_ms: readonly number[];
  readonly endpoint_cpu_p50: number;
  readonly raw_cpu_p50: number;
  readonly ratio_endpoint_over_raw: number;
  /** docker_run_p50 over raw_p50 + docker_cli_floor_p50: the CLI command against raw work plus the CLI's own floor. */
  readonly ratio_run_over_raw_plus_cli: number;
  /** Of the first timed run, counted at the simulator. */
  readonly round_trips_docker_run: number;
  readonly round_trips_endpoint: number;
  readonly round_trips_raw: number;
  /**
   * SOAP round trips of every timed run, in order: how many task reads a task took varies with the
   * simulator's speed, so one run's count is not the figure.
   */
  readonly round_trips_per_run: { readonly run: readonly number[]; readonly raw: readonly number[]; readonly endpoint: readonly number[] };
  /**
   * Of the first timed run, the HTTP requests that are not SOAP (datastore file reads: an image's
   * metadata and descriptor), which round_trips_* leave out.
   */
  readonly http_requests_docker_run: number;
  readonly http_requests_endpoint: number;
  readonly round_trips_by_method: {
    readonly docker_run: Readonly<Record<string, number>>;
    readonly endpoint: Readonly<Record<string, number>>;
    readonly raw: Readonly<Record<string, number>>;
  };
  /**
   * p50 of `docker version` against the endpoint (no vSphere call): the docker CLI's start, TLS
   * handshake and one request, which every docker command pays and the raw baseline does not.
   */
  readonly docker_cli_floor_p50: number;
}

export interface DockerOptions {
  readonly sim: RunningSimulator;
  /** An image reference in `registryHost`. */
  readonly image: string;
  readonly registryHost: string;
  /** Ascending container counts for `docker ps -a`, e.g. [10, 1000]. */
  readonly sizes: readonly number[];
  readonly psRepeats: number;
  readonly runs: number;
}

const VM_PATHS = ['name', 'config.uuid', 'runtime.powerState', 'config.extraConfig'];

/** CPU time of this process's main thread (its tid is the pid), from Linux schedstat. */
function mainThreadCpuMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/**
 * `docker run -d`'s two requests (POST /containers/create, then POST /containers/{id}/start), sent
 * from a worker thread on one kept-alive mutual-TLS connection: the client's TLS and parsing stay
 * off the endpoint's thread, so the endpoint's own CPU and latency are what is measured. Plain
 * JavaScript, evaluated: the worker needs no TypeScript loader.
 */
const RUN_CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:https');
const { host, port, apiVersion, ca, cert, key } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, cert, key });
const api = (method, path, body) => new Promise((resolve, reject) => {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const req = request({ agent, host, port, method, path: '/v' + apiVersion + path,
    headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end(data);
});
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'ping') {
      await api('GET', '/_ping');
      return parentPort.postMessage({ ok: true });
    }
    if (m.op === 'close') {
      agent.destroy();
      return parentPort.close();
    }
    const start = process.hrtime.bigint();
    const created = await api('POST', '/containers/create?name=' + encodeURIComponent(m.name), m.body);
    if (created.status !== 201) throw new Error('POST /containers/create answered ' + created.status + ': ' + created.text);
    const id = JSON.parse(created.text).Id;
    const started = await api('POST', '/containers/' + id + '/start');
    if (started.status !== 204) throw new Error('POST /containers/' + id + '/start answered ' + started.status + ': ' + started.text);
    parentPort.postMessage({ ok: true, ms: Number(process.hrtime.bigint() - start) / 1e6, id });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message || err) });
  }
});
`;

interface RunClient {
  send(message: Record<string, unknown>): Promise<{ ms?: number; id?: string }>;
  close(): Promise<void>;
}

function runClient(port: number, clientDir: string): RunClient {
  const worker = new Worker(RUN_CLIENT, {
    eval: true,
    workerData: {
      host: '127.0.0.1',
      port,
      apiVersion: API_VERSION,
      ca: readFileSync(join(clientDir, 'ca.pem')),
      cert: readFileSync(join(clientDir, 'cert.pem')),
      key: readFileSync(join(clientDir, 'key.pem')),
    },
  });
  return {
    send: (message) =>
      new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.once('message', (m: { ok: boolean; ms?: number; id?: string; message?: string }) => {
          worker.off('error', reject);
          if (m.ok) resolve(m);
          else reject(new Error(m.message ?? 'the run client failed'));
        });
        worker.postMessage(message);
      }),
    close: async () => {
      worker.postMessage({ op: 'close' });
      await worker.terminate();
    },
  };
}

function dockerCli(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the docker CLI is not installed: it is preinstalled at /usr/local/bin/docker, else apt-get install docker.io');
  }
}

function nodeStartMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`node -e 0 exited with ${String(code)}`)),
    );
  });
}

async function applied(engine: Engine, type: Parameters<Engine['plan']>[0], config: Attrs): Promise<Attrs> {
  const plan = await engine.plan(type, null, config);
  if (plan.problems.length > 0) throw new Error(`docker bench: the ${type} plan has problems: ${JSON.stringify(plan.problems)}`);
  return (await engine.apply(plan)) as Attrs;
}

export async function dockerBench(opts: DockerOptions): Promise<DockerResult> {
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const { sim } = opts;
  const cli = dockerCli();
  const scratch = await mkdtemp(join(tmpdir(), 'vic-bench-docker-'));
  const engine = await connectEngine({ url: sim.url, username: sim.username, password: sim.password, insecure: false, thumbprint: sim.thumbprint });
  const vim = await VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, thumbprint: sim.thumbprint });
  try {
    const vch = await applied(engine, 'virtual_container_host', {
      name: 'vch-docker-bench',
      compute: '/DC0/host/DC0_C0',
      datastore: 'LocalDS_0',
      bridge_network: 'VM Network',
    });
    const image = await applied(engine, 'image', { vch_id: vch.id, reference: opts.image, insecure_registry: true });
    const certDir = join(scratch, 'certs');
    await generateCertificates(certDir, { hosts: ['127.0.0.1'], port: 0 });
    const endpoint = await serveEndpoint({
      engine,
      vch: String(vch.name),
      host: '127.0.0.1',
      port: 0,
      tls: readServerTls(certDir),
      insecureRegistries: [opts.registryHost],
      version: '0.0.0-bench',
      // Guests off: no process reports running, and the start is measured to its power-on.
      startWaitMs: 0,
    });
    let agent: Agent | undefined;
    let client: RunClient | undefined;
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: scratch,
        DOCKER_CONFIG: join(scratch, 'docker-config'),
        DOCKER_HOST: `tcp://127.0.0.1:${endpoint.port}`,
        DOCKER_CERT_PATH: certificateFiles(certDir).clientDir,
        DOCKER_TLS_VERIFY: '1',
      };
      // The requests `docker run -d --name X image` sends, on one kept-alive mutual-TLS connection.
      const clientDir = certificateFiles(certDir).clientDir;
      agent = new Agent({
        keepAlive: true,
        maxSockets: 1,
        ca: readFileSync(join(clientDir, 'ca.pem')),
        cert: readFileSync(join(clientDir, 'cert.pem')),
        key: readFileSync(join(clientDir, 'key.pem')),
      });
      const api = (method: string, path: string, body?: unknown) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
          const req = request(
            {
              agent,
              host: '127.0.0.1',
              port: endpoint.port,
              method,
              path: `/v${API_VERSION}${path}`,
              headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(data);
        });
      client = runClient(endpoint.port, clientDir);
      const runs = client;
      const endpointRun = async (name: string) => {
        const cpuBefore = mainThreadCpuMs();
        const r = await runs.send({
          op: 'run',
          name,
          body: {
            Image: opts.image,
            Cmd: null,
            Env: null,
            Labels: {},
            HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false },
          },
        });
        return { ms: r.ms!, id: r.id!, cpuMs: mainThreadCpuMs() - cpuBefore };
      };
      await api('GET', '/_ping');
      await runs.send({ op: 'ping' });
      const docker = async (args: string[]) => {
        const r = await timedMs(() => runProcess(cli, args, env, { timeoutMs: 300_000 }));
        if (r.value.code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${String(r.value.code)}: ${r.value.stderr.trim()}`);
        return { ms: r.ms, stdout: r.value.stdout };
      };

      /** p50 of `runs` × `docker run -d`, each followed by one raw create + power-on, with `present` containers in the VCH. */
      let made = 0;
      const measureRuns = async (runs: number, tag: string): Promise<DockerRunPoint> => {
        progress(
          `docker run -d: ${runs} runs with ${made} containers present, interleaved with ${runs} raw CreateVM_Task + PowerOnVM_Task and ${runs} create + start requests`,
        );
        const present = made;
        const place = await rawPlacement(vim, String(vch.id), String(image.id));
        await docker(['run', '-d', '--name', `run-${tag}-warm`, opts.image]);
        made++;
        const runMs: number[] = [];
        const rawMs: number[] = [];
        const floorMs: number[] = [];
        const endpointMs: number[] = [];
        const endpointCpuMs: number[] = [];
        const rawCpuMs: number[] = [];
        let trips: { run: SimulatorStats; raw: SimulatorStats; endpoint: SimulatorStats } | undefined;
        const tripsPerRun = { run: [] as number[], raw: [] as number[], endpoint: [] as number[] };
        for (let k = 0; k < runs; k++) {
          await sim.control.resetStats();
          runMs.push((await docker(['run', '-d', '--name', `run-${tag}-${k}`, opts.image])).ms);
          made++;
          const afterRun = await sim.control.resetStats();
          const rawCpuBefore = mainThreadCpuMs();
          rawMs.push((await timedMs(() => rawCreateVm(vim, place, `raw-${tag}-${k}`))).ms);
          rawCpuMs.push(mainThreadCpuMs() - rawCpuBefore);
          const afterRaw = await sim.control.resetStats();
          const viaApi = await endpointRun(`api-${tag}-${k}`);
          endpointMs.push(viaApi.ms);
          endpointCpuMs.push(viaApi.cpuMs);
          const afterEndpoint = await sim.control.resetStats();
          // Removed again, untimed: the container counts of the docker ps points stay those asked for.
          const removed = await api('DELETE', `/containers/${viaApi.id}?force=1`);
          if (removed.status !== 204) throw new Error(`DELETE /containers/${viaApi.id} answered ${removed.status}: ${removed.text}`);
          trips ??= { run: afterRun, raw: afterRaw, endpoint: afterEndpoint };
          tripsPerRun.run.push(afterRun.total);
          tripsPerRun.raw.push(afterRaw.total);
          tripsPerRun.endpoint.push(afterEndpoint.total);
          floorMs.push((await docker(['version', '--format', '{{.Server.Version}}'])).ms);
        }
        if (!trips) throw new Error('docker bench: --docker-runs must be at least 1');
        const point: DockerRunPoint = {
          containers_present: present,
          runs,
          docker_run_ms: runMs.map((v) => round(v)),
          raw_ms: rawMs.map((v) => round(v)),
          docker_run_p50: round(median(runMs)),
          raw_p50: round(median(rawMs)),
          ratio_run_over_raw: ratio(median(runMs), median(rawMs)),
          endpoint_ms: endpointMs.map((v) => round(v)),
          endpoint_p50: round(median(endpointMs)),
          endpoint_cpu_ms: endpointCpuMs.map((v) => round(v, 2)),
          endpoint_cpu_p50: round(median(endpointCpuMs), 2),
          raw_cpu_p50: round(median(rawCpuMs), 2),
          ratio_endpoint_over_raw: ratio(median(endpointMs), median(rawMs)),
          ratio_run_over_raw_plus_cli: ratio(median(runMs), median(rawMs) + median(floorMs)),
          round_trips_docker_run: trips.run.total,
          round_trips_endpoint: trips.endpoint.total,
          round_trips_raw: trips.raw.total,
          round_trips_per_run: tripsPerRun,
          http_requests_docker_run: trips.run.otherHttp,
          http_requests_endpoint: trips.endpoint.otherHttp,
          round_trips_by_method: { docker_run: trips.run.calls, endpoint: trips.endpoint.calls, raw: trips.raw.calls },
          docker_cli_floor_p50: round(median(floorMs)),
        };
        progress(
          `docker run -d with ${present} containers: endpoint (create + start) p50 ${point.endpoint_p50} ms vs raw ${point.raw_p50} ms (×${point.ratio_endpoint_over_raw}), CPU ${point.endpoint_cpu_p50} ms vs the raw client's ${point.raw_cpu_p50} ms, ${point.round_trips_endpoint} vs ${point.round_trips_raw} round trips (and ${point.http_requests_endpoint} datastore file requests); the CLI command ${point.docker_run_p50} ms (×${point.ratio_run_over_raw_plus_cli} over raw + docker version ${point.docker_cli_floor_p50} ms), ${point.round_trips_docker_run} round trips`,
        );
        return point;
      };

      const points: DockerPsPoint[] = [];
      let run: DockerRunPoint | undefined;
      let runAtLargest: DockerRunPoint | undefined;
      for (const n of sizes) {
        progress(`docker: creating container VMs ${made}..${n - 1} through the engine, 10 in flight`);
        const from = made;
        await withConcurrency(Math.max(0, n - from), 10, async (i) => {
          await applied(engine, 'container_vm', { vch_id: vch.id, image_id: image.id, name: `ps-${from + i}`, power_state: 'stopped' });
        });
        made = Math.max(made, n);
        const listed = (await docker(['ps', '-a', '-q'])).stdout.trim().split('\n').filter(Boolean).length;
        if (listed !== made) throw new Error(`docker ps -a -q listed ${listed} containers, ${made} were created`);
        // The fewest calls of a few runs: the endpoint's own watch (it looks at the containers for a
        // while after a stop or a kill) may add a look of its own inside any one window.
        let stats: Awaited<ReturnType<typeof sim.control.resetStats>> | undefined;
        for (let k = 0; k < 3; k++) {
          await sim.control.resetStats();
          await docker(['ps', '-a']);
          const once = await sim.control.resetStats();
          if (!stats || once.total < stats.total) stats = once;
        }
        const psMs: number[] = [];
        const nodeMs: number[] = [];
        const readMs: number[] = [];
        for (let k = 0; k < opts.psRepeats; k++) {
          psMs.push((await docker(['ps', '-a'])).ms);
          nodeMs.push(await nodeStartMs());
          const read = await timedMs(() =>
            retrieveFromContainer(vim, { container: moRef('ResourcePool', String(vch.id)), select: [{ type: 'VirtualMachine', paths: VM_PATHS }] }),
          );
          if (read.value.length < made) throw new Error(`the raw read found ${read.value.length} VMs in the VCH pool, ${made} were created`);
          readMs.push(read.ms);
        }
        const baseline = median(nodeMs) + median(readMs);
        const point: DockerPsPoint = {
          n: made,
          ps_ms: psMs.map((v) => round(v)),
          ps_p50: round(median(psMs)),
          node_start_p50: round(median(nodeMs)),
          raw_read_p50: round(median(readMs)),
          baseline_p50: round(baseline),
          ratio_ps_over_baseline: ratio(median(psMs), baseline),
          round_trips: stats!.total,
          round_trips_by_method: stats!.calls,
        };
        points.push(point);
        progress(
          `docker ps -a, N=${made}: ${point.ps_p50} ms vs node -e 0 ${point.node_start_p50} ms + raw read ${point.raw_read_p50} ms (×${point.ratio_ps_over_baseline}), ${point.round_trips} round trips`,
        );
        // The latency goal is taken with few containers present; at the largest N the same
        // command is timed again, fewer times, to show what the count of containers adds.
        if (!run) run = await measureRuns(opts.runs, 'a');
        else if (n === sizes[sizes.length - 1]) runAtLargest = await measureRuns(Math.min(3, opts.runs), 'b');
      }
      if (!run) throw new Error('docker bench: no container count to measure at');

      const first = points[0];
      const last = points[points.length - 1];
      return {
        benchmark: 'docker-endpoint',
        description:
          'the real docker CLI against vic endpoint (mutual TLS, in-process, simulator with guests off): docker ps -a over N container VMs vs node -e 0 + one RetrievePropertiesEx of the VMs (name, config.uuid, runtime.powerState, config.extraConfig) on a logged-in src/vsphere client; docker run -d vs CreateVM_Task + PowerOnVM_Task of a VM with the same devices, as the latency of the endpoint alone (its create + start requests on an open connection: the goal) and as the whole CLI command (against the raw work + docker version); medians (p50), round trips counted at the simulator',
        ps: {
          repeats: opts.psRepeats,
          points,
          goal: { met: last.ratio_ps_over_baseline <= PS_GOAL_LIMIT, limit: PS_GOAL_LIMIT, ratio: last.ratio_ps_over_baseline, n: last.n },
          round_trips_constant: {
            met: last.round_trips <= first.round_trips + ROUND_TRIP_TOLERANCE,
            smallest_n: first.n,
            largest_n: last.n,
            trips_smallest: first.round_trips,
            trips_largest: last.round_trips,
          },
        },
        run: { ...run, goal: { met: run.ratio_endpoint_over_raw <= RUN_GOAL_LIMIT, limit: RUN_GOAL_LIMIT, ratio: run.ratio_endpoint_over_raw } },
        ...(runAtLargest ? { run_at_largest_n: runAtLargest } : {}),
      };
    } finally {
      agent?.destroy();
      await client?.close();
      await endpoint.close();
    }
  } finally {
    await vim.close();
    await engine.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
