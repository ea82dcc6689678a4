/**
 * The peers and Terraform configurations the benchmarks share: the vSphere simulator, a real
 * registry holding one tiny image, a VCH + image + N container VMs for the vic provider (and the
 * same configuration for the zero-work stub provider), and N `terraform_data` resources for
 * Terraform's own floor.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulator, type RunningSimulator } from '../src/sim/simulator';
import { writeOciLayout } from '../test/helpers/oci-layout';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry';
import { benchWorkspace, type BenchWorkspace } from './terraform-runner';

export interface BenchRegistry {
  readonly registry: RunningRegistry;
  /** `127.0.0.1:<port>/bench/app:v1` */
  readonly image: string;
  stop(): Promise<void>;
}

/** A registry with a one-file image: the benchmarks measure VMs, not image pulls. */
export async function startBenchRegistry(): Promise<BenchRegistry> {
  const scratch = await mkdtemp(join(tmpdir(), 'vic-bench-image-'));
  const registry = await startRegistry();
  try {
    const layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [
      {
        layers: [
          {
            entries: [
              { type: 'dir', path: 'bin' },
              { type: 'file', path: 'bin/app', content: '#!/bin/sh\necho up\n', mode: 0o755 },
            ],
          },
        ],
        config: { Entrypoint: ['/bin/app'] },
      },
    ]);
    await registry.push(layout.dir, 'v1', 'bench/app:v1');
  } catch (err) {
    await registry.stop();
    throw err;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { registry, image: `${registry.host}/bench/app:v1`, stop: () => registry.stop() };
}

/** A fresh simulator with no model VMs (they slow the start and are not ours to read). */
export function startBenchSimulator(): Promise<RunningSimulator> {
  return startSimulator({ username: 'bench', password: 'bench-password' });
}

/** The source address of the real provider, and of the stub that serves its schema and does nothing. */
export const VIC_SOURCE = 'vic-iac/vic';
export const STUB_SOURCE = 'vic-iac/stub';

/**
 * The bench stack (VCH + image + N container VMs) with the local name `vic` bound to `source`:
 * the stub keeps the vic_* type names, so both providers read the very same HCL.
 */
export function vicStackTf(source: string): string {
  return `terraform {
  required_providers {
    vic = { source = "${source}" }
  }
}

provider "vic" {}

variable "n" {
  type = number
}

variable "image" {
  type = string
}

resource "vic_virtual_container_host" "bench" {
  name           = "vch-bench"
  compute        = "/DC0/host/DC0_C0"
  datastore      = "LocalDS_0"
  bridge_network = "VM Network"
}

resource "vic_image" "app" {
  vch_id            = vic_virtual_container_host.bench.id
  reference         = var.image
  insecure_registry = true
}

resource "vic_container_vm" "c" {
  count     = var.n
  vch_id    = vic_virtual_container_host.bench.id
  image_id  = vic_image.app.id
  name      = "c-\${count.index}"
  memory_mb = 128
}
`;
}

export const VIC_STACK_TF = vicStackTf(VIC_SOURCE);

export const FLOOR_TF = `variable "n" {
  type = number
}

resource "terraform_data" "c" {
  count = var.n
  input = { name = "c-\${count.index}", memory_mb = 128 }
}
`;

/** A workspace holding the vic stack, connected to `sim`, initialised. */
export async function vicWorkspace(name: string, sim: RunningSimulator, image: string): Promise<BenchWorkspace> {
  const ws = benchWorkspace(name, {
    VSPHERE_SERVER: sim.url,
    VSPHERE_USER: sim.username,
    VSPHERE_PASSWORD: sim.password,
    VSPHERE_THUMBPRINT: sim.thumbprint,
    TF_VAR_image: image,
  });
  ws.write('main.tf', VIC_STACK_TF);
  await ws.terraform(['init', '-input=false']);
  return ws;
}

const STUB_MIRROR = resolve(__dirname, '../.cache/terraform-mirror');
const STUB_ADDRESS = `registry.terraform.io/${STUB_SOURCE}`;

/** The mirror holding the stub provider; fails with the command that installs it. */
export function stubProviderMirror(): string {
  const dir = join(STUB_MIRROR, STUB_ADDRESS);
  const versions = existsSync(dir) ? readdirSync(dir) : [];
  if (versions.length === 0)
    throw new Error(`the stub Terraform provider is not in ${dir}: run "npm run setup" (scripts/peers/75-stub-provider.sh builds it from bench/stub-provider)`);
  return STUB_MIRROR;
}

/** The stub provider's executable in its mirror (schema.json lies beside it). */
export function stubProviderBinary(): string {
  const dir = join(stubProviderMirror(), STUB_ADDRESS);
  const version = readdirSync(dir).sort().at(-1) ?? '';
  const platform = join(dir, version, `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`);
  const binary = existsSync(platform) ? readdirSync(platform).find((f) => f.startsWith('terraform-provider-stub')) : undefined;
  if (!binary) throw new Error(`the stub Terraform provider has no executable in ${platform}: run "npm run setup"`);
  return join(platform, binary);
}

/**
 * The vic stack through the stub provider (bench/stub-provider): same HCL, same schema, a Go
 * provider that does no work, so its plan time is Terraform's own share for this schema. `env`
 * reaches the provider: VIC_STUB_WORK_URL has it wait for the harness's vSphere work per created
 * container VM (apply-throughput.ts, the floor with the work).
 */
export async function stubWorkspace(name: string, image: string, env: NodeJS.ProcessEnv = {}): Promise<BenchWorkspace> {
  const ws = benchWorkspace(name, { TF_VAR_image: image, ...env }, { extraMirror: { path: stubProviderMirror(), include: STUB_ADDRESS } });
  ws.write('main.tf', vicStackTf(STUB_SOURCE));
  await ws.terraform(['init', '-input=false']);
  return ws;
}

/** A workspace of N terraform_data resources: Terraform's floor for the same resource count. */
export async function floorWorkspace(name: string): Promise<BenchWorkspace> {
  const ws = benchWorkspace(name);
  ws.write('main.tf', FLOOR_TF);
  await ws.terraform(['init', '-input=false']);
  return ws;
}

export function readStateResources(ws: BenchWorkspace): { type: string; name: string; instances: { attributes: Record<string, unknown> }[] }[] {
  return (JSON.parse(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8')) as { resources: ReturnType<typeof readStateResources> }).resources;
}
