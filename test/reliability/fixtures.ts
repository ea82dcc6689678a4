/**
 * What the bad-inputs rows plan against: a VCH and an image made through the engine, and a foreign
 * VM squatting on a container VM's BIOS UUID; plus a fingerprint of everything in the simulator
 * (pools with their allocations, folders, VMs, datastore files) to prove a refused plan made nothing.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Engine, PlannedChange } from '../../src/engine';
import type { Attrs } from '../../src/resources';
import { containerVmUuid } from '../../src/resources/container-vm.lifecycle';
import type { RunningSimulator } from '../../src/sim/simulator';
import { moRef, type VimClient } from '../../src/vsphere';
import { Inventory } from '../../src/vsphere/inventory';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { createVm } from '../../src/vsphere/virtual-machine';
import { APP_IMAGE } from '../helpers/oci-layout';
import type { RunningRegistry } from '../helpers/registry';
import { FIXTURE_VCH, type Fixtures } from './bad-inputs';

async function applied(engine: Engine, plan: PlannedChange): Promise<Attrs> {
  if (plan.problems.length > 0) throw new Error(`fixture plan has problems: ${JSON.stringify(plan.problems)}`);
  return (await engine.apply(plan)) as Attrs;
}

export interface Prepared {
  readonly fixtures: Fixtures;
  /** The fixture VCH's state, as a prior for update rows. */
  readonly vch: Attrs;
}

export async function prepareFixtures(engine: Engine, outside: VimClient, registry: RunningRegistry): Promise<Prepared> {
  await registry.pushImage(APP_IMAGE, 'test/app:v1');
  const vch = await applied(engine, await engine.plan('virtual_container_host', null, FIXTURE_VCH));
  const image = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference: `${registry.host}/test/app:v1`, insecure_registry: true }));
  const vchId = String(vch.id);
  const takenName = 'taken';
  const squatterUuid = containerVmUuid(vchId, takenName);
  const squatter = await createVm(outside, {
    folder: moRef('Folder', String(vch.folder_id)),
    pool: moRef('ResourcePool', vchId),
    config: { name: 'squatter', uuid: squatterUuid, guestId: 'otherGuest64', files: { vmPathName: '[LocalDS_0]' }, memoryMB: 64, numCPUs: 1 },
  });
  const inventory = new Inventory(outside);
  const datastore = await inventory.datastore(await inventory.datacenter('DC0'), 'LocalDS_0');
  return { vch, fixtures: { vchId, imageId: String(image.id), takenName, squatterMoid: squatter.value, squatterUuid, datastoreMoid: datastore.ref.value } };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .map((p) => `${relative(dir, p)}${statSync(p).isDirectory() ? '/' : ''}`);
}

/** Every pool (with its allocations and custom values), folder and VM, and every datastore file. */
export async function inventoryOf(sim: RunningSimulator, client: VimClient): Promise<string[]> {
  const rows = await retrieveFromContainer<Record<string, unknown>>(client, {
    container: client.serviceContent.rootFolder,
    select: [
      { type: 'ResourcePool', paths: ['name', 'config.cpuAllocation', 'config.memoryAllocation', 'customValue'] },
      { type: 'Folder', paths: ['name'] },
      { type: 'VirtualMachine', paths: ['name', 'config.uuid'] },
    ],
  });
  const objects = rows.map((r) => `${r.ref.type} ${r.ref.value} ${JSON.stringify(r.props)}`);
  const { datastores } = await sim.control.info();
  const files = Object.entries(datastores).flatMap(([name, dir]) => filesUnder(dir).map((f) => `[${name}] ${f}`));
  return [...objects, ...files].sort();
}
