/**
 * Refresh at scale for the peer users would otherwise pick: `terraform plan` over N applied
 * `vsphere_virtual_machine` (the vSphere provider that scripts/peers/70-vsphere-provider.sh builds
 * from Go modules into .cache/terraform-mirror), against N `terraform_data` in the same run, with
 * round trips counted at the simulator as for vic.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunningSimulator } from '../src/sim/simulator';
import { median, progress, ratio, round } from './figures';
import { benchWorkspace, type BenchWorkspace, type TerraformResult } from './terraform-runner';
import { floorWorkspace } from './vic-stack';

const MIRROR = resolve(__dirname, '../.cache/terraform-mirror');
const ADDRESS = 'registry.terraform.io/vmware/vsphere';

export interface VspherePoint {
  readonly n: number;
  readonly apply_s: number;
  readonly plan_ms: { readonly vsphere: readonly number[]; readonly floor: readonly number[]; readonly vsphere_median: number; readonly floor_median: number };
  readonly ratio_vsphere_over_floor: number;
  readonly vsphere_timed_out: boolean;
  readonly round_trips: number;
  readonly round_trips_by_method: Readonly<Record<string, number>>;
}

export interface VsphereResult {
  readonly benchmark: 'refresh-vsphere-provider';
  readonly description: string;
  readonly provider_version: string;
  readonly repeats: number;
  readonly points: readonly VspherePoint[];
}

export interface VsphereOptions {
  readonly sim: RunningSimulator;
  readonly sizes: readonly number[];
  readonly repeats: number;
  readonly planTimeoutMs: number;
}

/** The version 70-vsphere-provider.sh installed; fails with the command that installs it. */
export function installedVsphereProvider(): string {
  const dir = join(MIRROR, ADDRESS);
  const versions = existsSync(dir) ? readdirSync(dir) : [];
  if (versions.length === 0)
    throw new Error(`the vSphere Terraform provider is not in ${dir}: run "npm run setup" (scripts/peers/70-vsphere-provider.sh builds it from Go modules)`);
  return versions.sort().at(-1)!;
}

// vSphere provider v1.26 reads the environment browser of the pool's owner as a plain
// ComputeResource, so its VMs go to the standalone host's pool (as in the side-by-side e2e test).
const VSPHERE_TF = `terraform {
  required_providers {
    vsphere = { source = "vmware/vsphere" }
  }
}

provider "vsphere" {
  # v1.x cannot pin a thumbprint; the simulator's certificate is self-signed.
  allow_unverified_ssl = true
}

variable "n" {
  type = number
}

data "vsphere_datacenter" "dc" {
  name = "DC0"
}

data "vsphere_datastore" "ds" {
  name          = "LocalDS_0"
  datacenter_id = data.vsphere_datacenter.dc.id
}

data "vsphere_network" "net" {
  name          = "VM Network"
  datacenter_id = data.vsphere_datacenter.dc.id
}

data "vsphere_resource_pool" "pool" {
  name          = "DC0_H0/Resources"
  datacenter_id = data.vsphere_datacenter.dc.id
}

resource "vsphere_virtual_machine" "vm" {
  count                      = var.n
  name                       = "vm-\${count.index}"
  resource_pool_id           = data.vsphere_resource_pool.pool.id
  datastore_id               = data.vsphere_datastore.ds.id
  num_cpus                   = 1
  memory                     = 64
  guest_id                   = "otherLinux64Guest"
  wait_for_guest_net_timeout = 0
  wait_for_guest_ip_timeout  = 0

  network_interface {
    network_id = data.vsphere_network.net.id
  }

  disk {
    label = "disk0"
    size  = 1
  }

  lifecycle {
    # the simulator reads the swap placement of a created VM back empty
    ignore_changes = [swap_placement_policy]
  }
}
`;

async function vsphereWorkspace(sim: RunningSimulator): Promise<BenchWorkspace> {
  const ws = benchWorkspace(
    'vsphere',
    { VSPHERE_SERVER: new URL(sim.url).host, VSPHERE_USER: sim.username, VSPHERE_PASSWORD: sim.password },
    { extraMirror: { path: MIRROR, include: ADDRESS } },
  );
  ws.write('main.tf', VSPHERE_TF);
  await ws.terraform(['init', '-input=false']);
  return ws;
}

export async function vsphereBench(opts: VsphereOptions): Promise<VsphereResult> {
  const version = installedVsphereProvider();
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const ws = await vsphereWorkspace(opts.sim);
  const floor = await floorWorkspace('vsphere-floor');
  const points: VspherePoint[] = [];
  try {
    for (const n of sizes) {
      const vars = ['-var', `n=${n}`];
      await floor.terraform(['apply', '-auto-approve', '-input=false', ...vars]);
      progress(`vsphere: applying ${n} vsphere_virtual_machine (provider v${version})`);
      const apply = await ws.terraform(['apply', '-auto-approve', '-input=false', ...vars], { timeoutMs: opts.planTimeoutMs });
      if (apply.timedOut) {
        progress(`vsphere: applying ${n} VMs passed its ${Math.round(opts.planTimeoutMs / 1000)} s budget; no plan at this N`);
        break;
      }
      progress(`vsphere: ${n} VMs applied in ${Math.round(apply.wallMs / 1000)} s; planning ${opts.repeats}× each`);
      const plan = ['plan', '-input=false', '-lock=false', '-detailed-exitcode', ...vars];
      const runs: { result: TerraformResult; trips: number; byMethod: Record<string, number> }[] = [];
      const floorMs: number[] = [];
      for (let i = 0; i < opts.repeats; i++) {
        floorMs.push((await floor.terraform(plan)).wallMs);
        await opts.sim.control.resetStats();
        const result = await ws.terraform(plan, { timeoutMs: opts.planTimeoutMs });
        const stats = await opts.sim.control.stats();
        runs.push({ result, trips: stats.total, byMethod: stats.calls });
        if (result.timedOut) break;
      }
      const ms = runs.map((r) => r.result.wallMs);
      const trips = median(runs.map((r) => r.trips));
      const point: VspherePoint = {
        n,
        apply_s: round(apply.wallMs / 1000, 2),
        plan_ms: {
          vsphere: ms.map((v) => round(v)),
          floor: floorMs.map((v) => round(v)),
          vsphere_median: round(median(ms)),
          floor_median: round(median(floorMs)),
        },
        ratio_vsphere_over_floor: ratio(median(ms), median(floorMs)),
        vsphere_timed_out: runs.some((r) => r.result.timedOut),
        round_trips: trips,
        round_trips_by_method: (runs.find((r) => r.trips === trips) ?? runs[0]).byMethod,
      };
      points.push(point);
      progress(
        `vsphere N=${n}: plan ${point.plan_ms.vsphere_median} ms vs floor ${point.plan_ms.floor_median} ms (×${point.ratio_vsphere_over_floor}), ${trips} round trips`,
      );
      if (point.vsphere_timed_out) break;
    }
  } finally {
    ws.remove();
    floor.remove();
  }
  return {
    benchmark: 'refresh-vsphere-provider',
    description: `terraform plan over N applied vsphere_virtual_machine (terraform-provider-vsphere v${version}, built from Go modules) vs N terraform_data, same run, medians; round trips counted at the simulator`,
    provider_version: version,
    repeats: opts.repeats,
    points,
  };
}
