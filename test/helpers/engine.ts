/** An engine connected to the test file's simulator (pinned thumbprint, as a user would). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine, type PlannedChange } from '../../src/engine';
import type { Attrs } from '../../src/resources';
import { CREATE_LEASE_MS } from '../../src/resources/container-vm.lifecycle';
import type { RunningSimulator } from '../../src/sim/simulator';
import { VimClient, retrieveFromContainer } from '../../src/vsphere';
import { Inventory, type Datacenter, type InventoryObject } from '../../src/vsphere/inventory';
import { APP_IMAGE, writeOciLayout } from './oci-layout';
import { useRegistry } from './registry';
import { useSimulator } from './vcsim';

export function settingsFor(sim: RunningSimulator, datacenter?: string) {
  return { url: sim.url, username: sim.username, password: sim.password, insecure: false, thumbprint: sim.thumbprint, datacenter };
}

/** The VSPHERE_* variables a front end (vic, terraform, pulumi) reads to reach the simulator. */
export function vsphereEnv(sim: RunningSimulator): NodeJS.ProcessEnv {
  return { VSPHERE_SERVER: sim.url, VSPHERE_USER: sim.username, VSPHERE_PASSWORD: sim.password, VSPHERE_THUMBPRINT: sim.thumbprint };
}

export function connectTestEngine(sim: RunningSimulator): Promise<Engine> {
  return connectEngine(settingsFor(sim));
}

/** A separate client, for acting on vSphere "outside" the engine (drift, inspection). */
export function connectTestClient(sim: RunningSimulator): Promise<VimClient> {
  return VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, thumbprint: sim.thumbprint });
}

/** Applies a plan the test expects to be free of problems (the assertion fails the test otherwise). */
export async function applied(engine: Engine, plan: PlannedChange): Promise<Attrs> {
  expect(plan.problems).toEqual([]);
  return (await engine.apply(plan)) as Attrs;
}

/** The simulator's default datacenter DC0 and its datastore LocalDS_0, as the tests' VCHs use them. */
export async function defaultDatastore(outside: VimClient): Promise<{ dc: Datacenter; ds: InventoryObject }> {
  const inv = new Inventory(outside);
  const dc = await inv.datacenter('DC0');
  return { dc, ds: await inv.datastore(dc, 'LocalDS_0') };
}

/**
 * A VCH on the simulator's cluster DC0_C0 and datastore LocalDS_0, bridged to "VM Network", and an
 * image on it from `reference` (an insecure test registry): what a container VM test starts from.
 */
export async function vchWithImage(engine: Engine, vchName: string, reference: string): Promise<{ vch: Attrs; img: Attrs }> {
  const vch = await applied(
    engine,
    await engine.plan('virtual_container_host', null, { name: vchName, compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
  );
  const img = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference, insecure_registry: true }));
  return { vch, img };
}

/** The MOIDs of the VMs, anywhere in vSphere, named `name` (or whose name it accepts): a look from outside. */
export async function vmMoidsNamed(client: VimClient, name: string | ((name: string) => boolean)): Promise<string[]> {
  const rows = await retrieveFromContainer<{ name: string }>(client, {
    container: client.serviceContent.rootFolder,
    select: [{ type: 'VirtualMachine', paths: ['name'] }],
  });
  const match = typeof name === 'string' ? (n: string) => n === name : name;
  return rows.filter((r) => match(r.props.name)).map((r) => r.ref.value);
}

/**
 * Makes the VMs named `prefix…` older than a create's lease on the simulator's clock, as a user who
 * runs an apply again after a killed one finds them a while later: a pending one is then adopted at
 * once, not waited for as a create another process may still be running (CREATE_LEASE_MS). Returns
 * their MOIDs.
 */
export async function ageVmsNamed(sim: RunningSimulator, client: VimClient, prefix: string): Promise<string[]> {
  const moids = await vmMoidsNamed(client, (name) => name.startsWith(prefix));
  for (const moid of moids) await sim.control.setCreateAge(moid, CREATE_LEASE_MS + 1_000);
  return moids;
}

/** What useContainerBed gives a test file: an engine, an outside client, and a VCH with an image. */
export interface ContainerBed {
  readonly engine: Engine;
  readonly outside: VimClient;
  readonly vch: Attrs;
  readonly img: Attrs;
}

/**
 * The setup a container VM test file starts from, on its own simulator and registry: an engine, an
 * outside client, and a VCH `vchName` with APP_IMAGE pushed as `repository:v1` and pulled (vchWithImage).
 */
export function useContainerBed(vchName: string, repository: string): () => ContainerBed {
  const sim = useSimulator();
  const registry = useRegistry();
  let bed: ContainerBed | undefined;
  let scratch: string | undefined;
  beforeAll(async () => {
    const engine = await connectTestEngine(sim());
    const outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-container-bed-'));
    const layout = await writeOciLayout(join(scratch, 'app'), 'v1', [APP_IMAGE]);
    await registry().push(layout.dir, 'v1', `${repository}:v1`);
    bed = { engine, outside, ...(await vchWithImage(engine, vchName, `${registry().host}/${repository}:v1`)) };
  }, 60_000);
  afterAll(async () => {
    await bed?.engine.close();
    await bed?.outside.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  return () => {
    if (!bed) throw new Error('useContainerBed: the bed is set up in beforeAll');
    return bed;
  };
}
