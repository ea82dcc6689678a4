/**
 * Benchmark 2 (apply throughput): N container VMs created through `terraform apply`, against a raw
 * SOAP script (src/vsphere directly) issuing the same CreateVM_Task and PowerOnVM_Task calls, with
 * the same devices, at Terraform's concurrency (-parallelism, default 10).
 * Two more baselines show Terraform's own share: N `terraform_data` (no plugin at all), and the
 * same stack through the stub provider (bench/stub-provider: vic's schema, a Go provider doing no
 * work), i.e. Terraform + gRPC with zero vSphere work. A third is the floor of any provider that
 * does the work: the stub again, each of its creates waiting while this process does the raw
 * script's work for that VM (VIC_STUB_WORK_URL), on a fresh simulator of its own.
 *
 * Each side gets a fresh simulator with the same VCH and image: vcsim 0.46.3 never frees a
 * property filter, so whichever side ran second on a shared one paid for the first side's task
 * waits. The measurement is repeated (rounds, the order of raw and Terraform alternating) and the
 * medians are reported: one apply on this shared machine varies by ±30 %.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { imageLayout } from '../src/images';
import { readVchMarker, takeSnapshot } from '../src/resources/snapshot';
import type { SimulatorStats } from '../src/sim/control';
import type { RunningSimulator } from '../src/sim/simulator';
import { Inventory, moRef, VimClient } from '../src/vsphere';
import { datastorePath } from '../src/vsphere/file-manager';
import {
  addDevice,
  fileSerialPort,
  isoCdrom,
  networkAdapter,
  pvscsiController,
  virtualDisk,
  type VirtualDeviceConfigSpec,
} from '../src/vsphere/virtual-devices';
import { createVm, powerOnVm } from '../src/vsphere/virtual-machine';
import { median, progress, ratio, round, timedMs } from './figures';
import type { BenchWorkspace } from './terraform-runner';
import { floorWorkspace, readStateResources, stubWorkspace, vicWorkspace } from './vic-stack';

export interface ApplyResult {
  readonly benchmark: 'apply-throughput';
  readonly description: string;
  readonly vms: number;
  readonly concurrency: number;
  /** stub_apply: the same N container VMs through the zero-work stub provider, with its VCH and image applied first as for vic. */
  /** stub_with_work: the stub again, each create waiting for the raw script's work of its VM (the floor of a provider that does the work). */
  readonly wall_ms: {
    readonly terraform_apply: number;
    readonly raw_soap: number;
    readonly terraform_data_floor: number;
    readonly stub_apply: number;
    readonly stub_with_work: number;
  };
  readonly vms_per_s: { readonly terraform_apply: number; readonly raw_soap: number; readonly stub_apply: number };
  /** Every round's wall times (ms); wall_ms holds their medians. */
  readonly rounds: readonly {
    readonly terraform_apply: number;
    readonly raw_soap: number;
    readonly terraform_data_floor: number;
    readonly stub_apply: number;
    readonly stub_with_work: number;
  }[];
  readonly ratio_terraform_over_raw: number;
  /** vic's apply over the stub's: how much slower than Terraform driving a provider that does nothing. */
  readonly ratio_terraform_over_stub: number;
  /**
   * The stub with the work over the stub alone: where any provider that creates and powers on the
   * VMs inside ApplyResourceChange starts, before its own cost. vic's apply over that floor beside it.
   */
  readonly ratio_stub_with_work_over_stub: number;
  readonly ratio_terraform_over_stub_with_work: number;
  readonly goal: { readonly met: boolean; readonly limit: 1.3 };
  /** vic over the stub: ≤ 1.5× for a few hundred VMs, ≤ 1.2× from 1000 on, where Terraform's own share dominates. */
  readonly goal_over_stub: { readonly met: boolean; readonly limit: number };
  /** SOAP round trips per created VM: no more than the raw script needs. */
  readonly goal_round_trips: { readonly met: boolean; readonly limit_per_vm: number };
  /** Round trips, by method, server time and task waits: of the round whose vic apply was the median. */
  /** per_vm_stub_with_work: the raw script's calls when Terraform's walk paces them, as it paces vic's. */
  readonly round_trips: {
    readonly terraform_apply: number;
    readonly raw_soap: number;
    readonly per_vm_terraform: number;
    readonly per_vm_raw: number;
    readonly per_vm_stub_with_work: number;
  };
  readonly round_trips_by_method: {
    readonly terraform_apply: Readonly<Record<string, number>>;
    readonly raw_soap: Readonly<Record<string, number>>;
    readonly stub_with_work: Readonly<Record<string, number>>;
  };
  /** VMs of the VCH's pool powered on at the end of that round, read from the simulator: every VM, whether alone or in a PowerOnMultiVM_Task. */
  readonly powered_on: { readonly terraform_apply: number; readonly raw_soap: number };
  /** Server time summed over the calls, in s: how much of the wall time the simulator itself spent. */
  readonly server_s: { readonly terraform_apply: number; readonly raw_soap: number };
  /** The 4 calls each task wait costs today (CreatePropertyCollector, CreateFilter, WaitForUpdatesEx, DestroyPropertyCollector). */
  readonly task_wait_calls: { readonly terraform_apply: number; readonly raw_soap: number };
  /**
   * With VIC_BENCH_PROVIDER_CPU=1: the CPU (user + system, ms) of the provider processes of vic's timed
   * apply (Terraform starts one per phase), median over the rounds, and every round's; the figure a
   * loaded machine moves least.
   */
  readonly provider_cpu_ms?: { readonly terraform_apply: number; readonly rounds: readonly number[] };
}

export interface ApplyOptions {
  readonly image: string;
  readonly vms: number;
  readonly concurrency?: number;
  /** How many rounds (each side on its own fresh simulator per round); medians are reported. */
  readonly rounds?: number;
  readonly startSimulator: () => Promise<RunningSimulator>;
}

const TASK_WAIT_METHODS = ['CreatePropertyCollector', 'CreateFilter', 'WaitForUpdatesEx', 'DestroyPropertyCollector', 'DestroyPropertyFilter'];

function serverSeconds(stats: SimulatorStats): number {
  return round(Object.values(stats.serverMs).reduce((a, b) => a + b, 0) / 1000, 2);
}

function taskWaitCalls(stats: SimulatorStats): number {
  return TASK_WAIT_METHODS.reduce((sum, m) => sum + (stats.calls[m] ?? 0), 0);
}

/** Runs `work` over 0..count-1 with at most `limit` in flight, as Terraform's walker does. */
export async function withConcurrency(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await work(i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** Where the raw script puts its VMs: next to the VCH's container VMs, on the same image disk. */
export interface RawPlacement {
  readonly folder: string;
  readonly pool: string;
  readonly datastore: string;
  readonly network: Awaited<ReturnType<Inventory['network']>>;
  readonly parentDisk: string;
  readonly bootstrapIso?: string;
}

export async function rawPlacement(client: VimClient, vchId: string, imageDigest: string): Promise<RawPlacement> {
  const marker = await readVchMarker(client, vchId);
  if (!marker) throw new Error(`the VCH pool ${vchId} carries no vic-iac marker; cannot place the raw VMs next to it`);
  const dc = await new Inventory(client).datacenter(marker.datacenter);
  const network = await new Inventory(client).network(dc, marker.bridge_network ?? 'VM Network');
  const ds = marker.datastore;
  return {
    folder: marker.folder_id ?? '',
    pool: vchId,
    datastore: ds,
    network,
    parentDisk: datastorePath(ds, `${marker.image_store_path}/${imageLayout(imageDigest).descriptor}`),
    bootstrapIso: marker.bootstrap_iso ?? undefined,
  };
}

/** CreateVM_Task + PowerOnVM_Task of one VM with the devices a container VM gets, straight over SOAP. */
export async function rawCreateVm(client: VimClient, place: RawPlacement, name: string): Promise<void> {
  const ds = place.datastore;
  const devices: VirtualDeviceConfigSpec[] = [
    addDevice(pvscsiController(-100)),
    addDevice(
      virtualDisk({
        key: -101,
        controllerKey: -100,
        unitNumber: 0,
        fileName: datastorePath(ds, `${name}/${name}.vmdk`),
        capacityKB: 2048 * 1024,
        parentFileName: place.parentDisk,
      }),
      'create',
    ),
    ...(place.bootstrapIso ? [addDevice(isoCdrom({ key: -102, isoFileName: place.bootstrapIso }))] : []),
    addDevice(networkAdapter({ key: -110, model: 'vmxnet3', network: place.network })),
    addDevice(fileSerialPort({ key: -103, fileName: datastorePath(ds, `${name}/console.log`) })),
  ];
  const vm = await createVm(client, {
    folder: moRef('Folder', place.folder),
    pool: moRef('ResourcePool', place.pool),
    config: {
      name,
      guestId: 'otherGuest64',
      files: { vmPathName: datastorePath(ds, `${name}/${name}.vmx`) },
      numCPUs: 1,
      memoryMB: 64,
      deviceChange: devices,
      // about the size of a container VM's guestinfo config and markers
      extraConfig: { 'guestinfo.vic.config': 'x'.repeat(600), 'vic.owner': 'bench-raw', 'vic.name': name },
    },
  });
  await powerOnVm(client, vm);
}

/** CreateVM + PowerOn for `count` VMs with the devices a container VM gets, straight over SOAP. */
async function rawCreate(sim: RunningSimulator, vchId: string, count: number, concurrency: number, imageDigest: string): Promise<void> {
  const client = await VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, thumbprint: sim.thumbprint });
  try {
    const place = await rawPlacement(client, vchId, imageDigest);
    await withConcurrency(count, concurrency, (i) => rawCreateVm(client, place, `raw-${i}`));
  } finally {
    await client.close();
  }
}

interface VicSide {
  readonly sim: RunningSimulator;
  readonly ws: BenchWorkspace;
  readonly vchId: string;
  readonly imageDigest: string;
}

/** A fresh simulator holding the bench VCH and image, applied through terraform (not timed). */
async function vicSide(opts: ApplyOptions, name: string): Promise<VicSide> {
  const sim = await opts.startSimulator();
  try {
    const ws = await vicWorkspace(name, sim, opts.image);
    await ws.terraform(['apply', '-auto-approve', '-input=false', '-var', 'n=0']);
    const resources = readStateResources(ws);
    const attrsOf = (type: string) => resources.find((r) => r.type === type)?.instances[0]?.attributes ?? {};
    return { sim, ws, vchId: String(attrsOf('vic_virtual_container_host').id), imageDigest: String(attrsOf('vic_image').id) };
  } catch (err) {
    await sim.stop();
    throw err;
  }
}

async function closeSide(side: VicSide): Promise<void> {
  side.ws.remove();
  await side.sim.stop();
}

interface Round {
  readonly wall: { terraform_apply: number; raw_soap: number; terraform_data_floor: number; stub_apply: number; stub_with_work: number };
  readonly rawStats: SimulatorStats;
  readonly tfStats: SimulatorStats;
  readonly workStats: SimulatorStats;
  readonly poweredOn: { terraform_apply: number; raw_soap: number };
  readonly providerCpuMs?: number;
}

/** The VMs of the side's VCH pool that are powered on, read after the timed work. */
async function poweredOnInPool(side: VicSide): Promise<number> {
  const client = await VimClient.connect({ url: side.sim.url, username: side.sim.username, password: side.sim.password, thumbprint: side.sim.thumbprint });
  try {
    return (await takeSnapshot(client, [side.vchId])).vmsInPool(side.vchId).filter((vm) => vm.powerState === 'poweredOn').length;
  } finally {
    await client.close();
  }
}

/**
 * The stub provider's apply of N container VMs on a fresh simulator with the VCH and image, each of
 * its creates waiting while this process does the raw script's work for that VM: an HTTP server on
 * loopback that the stub POSTs the VM's name to (VIC_STUB_WORK_URL).
 */
async function stubWithWork(opts: ApplyOptions, parallelism: string): Promise<{ ms: number; stats: SimulatorStats }> {
  const side = await vicSide(opts, 'apply-stub-work');
  const client = await VimClient.connect({ url: side.sim.url, username: side.sim.username, password: side.sim.password, thumbprint: side.sim.thumbprint });
  const server = createServer((req, res) => {
    let name = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (name += chunk));
    req.on('end', () => {
      rawCreateVm(client, place, `w-${name}`).then(
        () => res.writeHead(200).end(),
        (err: unknown) => res.writeHead(500).end(err instanceof Error ? err.message : String(err)),
      );
    });
  });
  let place: RawPlacement;
  try {
    place = await rawPlacement(client, side.vchId, side.imageDigest);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const ws = await stubWorkspace('apply-stub-work', opts.image, { VIC_STUB_WORK_URL: url });
    try {
      await ws.terraform(['apply', '-auto-approve', '-input=false', '-var', 'n=0']);
      await side.sim.control.resetStats();
      const run = await ws.terraform(['apply', '-auto-approve', '-input=false', parallelism, '-var', `n=${opts.vms}`]);
      const stats = await side.sim.control.resetStats();
      const made = await poweredOnInPool(side);
      if (made !== opts.vms) throw new Error(`the stub's apply with the work left ${made} VMs powered on, not ${opts.vms}`);
      return { ms: run.wallMs, stats };
    } finally {
      ws.remove();
    }
  } finally {
    server.close();
    await client.close();
    await closeSide(side);
  }
}

async function applyRound(opts: ApplyOptions, index: number, concurrency: number): Promise<Round> {
  const label = `apply round ${index + 1}`;
  const parallelism = `-parallelism=${concurrency}`;
  const rawSide = async () => {
    const side = await vicSide(opts, 'apply-raw');
    try {
      progress(`${label}: raw SOAP script, ${opts.vms} × (CreateVM_Task + PowerOnVM_Task), ${concurrency} in flight`);
      await side.sim.control.resetStats();
      const raw = await timedMs(() => rawCreate(side.sim, side.vchId, opts.vms, concurrency, side.imageDigest));
      const stats = await side.sim.control.resetStats();
      return { ms: raw.ms, stats, poweredOn: await poweredOnInPool(side) };
    } finally {
      await closeSide(side);
    }
  };
  const tfSide = async () => {
    const side = await vicSide(opts, 'apply');
    try {
      progress(`${label}: terraform apply of ${opts.vms} container VMs (${parallelism})`);
      await side.sim.control.resetStats();
      const tf = await side.ws.terraform(['apply', '-auto-approve', '-input=false', parallelism, '-var', `n=${opts.vms}`]);
      const stats = await side.sim.control.resetStats();
      return { ms: tf.wallMs, stats, poweredOn: await poweredOnInPool(side), providerCpuMs: tf.providerCpuMs };
    } finally {
      await closeSide(side);
    }
  };
  // Alternate the order so neither side always runs on the warmer (or busier) machine.
  const [raw, tf] = index % 2 === 0 ? [await rawSide(), await tfSide()] : await tfSide().then(async (t) => [await rawSide(), t] as const);
  progress(`${label}: vic ${round(tf.ms / 1000, 2)} s, raw ${round(raw.ms / 1000, 2)} s; now the stub provider with the raw work`);
  const work = await stubWithWork(opts, parallelism);
  progress(`${label}: the stub with the work ${round(work.ms / 1000, 2)} s; now ${opts.vms} terraform_data and the stub provider`);
  const floor = await floorWorkspace('apply-floor');
  const stub = await stubWorkspace('apply-stub', opts.image);
  try {
    const floorRun = await floor.terraform(['apply', '-auto-approve', '-input=false', parallelism, '-var', `n=${opts.vms}`]);
    await stub.terraform(['apply', '-auto-approve', '-input=false', '-var', 'n=0']);
    const stubRun = await stub.terraform(['apply', '-auto-approve', '-input=false', parallelism, '-var', `n=${opts.vms}`]);
    return {
      wall: {
        terraform_apply: round(tf.ms),
        raw_soap: round(raw.ms),
        terraform_data_floor: round(floorRun.wallMs),
        stub_apply: round(stubRun.wallMs),
        stub_with_work: round(work.ms),
      },
      rawStats: raw.stats,
      tfStats: tf.stats,
      workStats: work.stats,
      poweredOn: { terraform_apply: tf.poweredOn, raw_soap: raw.poweredOn },
      providerCpuMs: tf.providerCpuMs,
    };
  } finally {
    floor.remove();
    stub.remove();
  }
}

export function applyLimitOverStub(vms: number): number {
  return vms >= 1000 ? 1.2 : 1.5;
}

export async function applyBench(opts: ApplyOptions): Promise<ApplyResult> {
  const concurrency = opts.concurrency ?? 10;
  const rounds: Round[] = [];
  for (let i = 0; i < (opts.rounds ?? 1); i++) rounds.push(await applyRound(opts, i, concurrency));
  const mid = (key: keyof Round['wall']) => median(rounds.map((r) => r.wall[key]));
  const wall = {
    terraform_apply: mid('terraform_apply'),
    raw_soap: mid('raw_soap'),
    terraform_data_floor: mid('terraform_data_floor'),
    stub_apply: mid('stub_apply'),
    stub_with_work: mid('stub_with_work'),
  };
  const typical = rounds.find((r) => r.wall.terraform_apply === wall.terraform_apply) ?? rounds[0];
  const { tfStats, rawStats, workStats } = typical;
  const r = ratio(wall.terraform_apply, wall.raw_soap);
  const overStub = ratio(wall.terraform_apply, wall.stub_apply);
  const perVm = {
    terraform: round(tfStats.total / Math.max(1, opts.vms)),
    raw: round(rawStats.total / Math.max(1, opts.vms)),
    work: round(workStats.total / Math.max(1, opts.vms)),
  };
  const stubLimit = applyLimitOverStub(opts.vms);
  const cpu = rounds.map((x) => x.providerCpuMs).filter((ms): ms is number => ms !== undefined);
  return {
    benchmark: 'apply-throughput',
    description: `terraform apply creating ${opts.vms} vic_container_vm (powered on) vs a raw src/vsphere script issuing CreateVM_Task + PowerOnVM_Task with the same devices, ${concurrency} in flight, each on a fresh simulator, medians of ${rounds.length} round(s); Terraform's own share: ${opts.vms} terraform_data, and the same stack through a zero-work Go provider with vic's schema (stub); the floor of a provider that does the work: the stub, each create waiting for the raw script's work of its VM`,
    vms: opts.vms,
    concurrency,
    wall_ms: wall,
    vms_per_s: {
      terraform_apply: round(opts.vms / (wall.terraform_apply / 1000)),
      raw_soap: round(opts.vms / (wall.raw_soap / 1000)),
      stub_apply: round(opts.vms / (wall.stub_apply / 1000)),
    },
    rounds: rounds.map((x) => x.wall),
    ratio_terraform_over_raw: r,
    ratio_terraform_over_stub: overStub,
    ratio_stub_with_work_over_stub: ratio(wall.stub_with_work, wall.stub_apply),
    ratio_terraform_over_stub_with_work: ratio(wall.terraform_apply, wall.stub_with_work),
    goal: { met: r <= 1.3, limit: 1.3 },
    goal_over_stub: { met: overStub <= stubLimit, limit: stubLimit },
    goal_round_trips: { met: perVm.terraform <= perVm.raw, limit_per_vm: perVm.raw },
    round_trips: {
      terraform_apply: tfStats.total,
      raw_soap: rawStats.total,
      per_vm_terraform: perVm.terraform,
      per_vm_raw: perVm.raw,
      per_vm_stub_with_work: perVm.work,
    },
    round_trips_by_method: { terraform_apply: tfStats.calls, raw_soap: rawStats.calls, stub_with_work: workStats.calls },
    powered_on: typical.poweredOn,
    server_s: { terraform_apply: serverSeconds(tfStats), raw_soap: serverSeconds(rawStats) },
    task_wait_calls: { terraform_apply: taskWaitCalls(tfStats), raw_soap: taskWaitCalls(rawStats) },
    ...(cpu.length > 0 ? { provider_cpu_ms: { terraform_apply: round(median(cpu)), rounds: cpu.map((ms) => round(ms)) } } : {}),
  };
}
