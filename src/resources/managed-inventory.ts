/**
 * Everything vic-iac made that vSphere holds, found by the markers: VCH pools by `vic-iac.vch`,
 * container VMs by `vic.owner`, and the images those VMs use. For `vic ls --all` and the Docker
 * endpoint; a listing, not a state (nothing here is refreshed against a configuration).
 */
import type { VimClient } from '../vsphere';
import { retrieveFromContainer, rootFolder } from '../vsphere/property-collector';
import { isOurs, stateOfVm } from './container-vm.lifecycle';
import type { Attrs } from './schema';
import { takeSnapshot, type VchMarker } from './snapshot';

export interface ManagedInventory {
  readonly hosts: ReadonlyArray<{ readonly id: string; readonly marker: VchMarker }>;
  /** Images in use by container VMs (an unused image is only in its store). */
  readonly images: ReadonlyArray<{ readonly digest: string; readonly vchId: string; readonly users: number }>;
  /** container_vm states, as a refresh would read them. */
  readonly containerVms: readonly Attrs[];
}

export async function listManaged(client: VimClient): Promise<ManagedInventory> {
  const pools = await retrieveFromContainer<{ name: string }>(client, { container: rootFolder(client), select: [{ type: 'ResourcePool', paths: ['name'] }] });
  const snap = await takeSnapshot(
    client,
    pools.map((p) => p.ref.value),
  );
  const hosts = [...snap.pools.values()].filter((p) => p.marker).map((p) => ({ id: p.moid, marker: p.marker as VchMarker }));
  const images = new Map<string, { digest: string; vchId: string; users: number }>();
  const containerVms: Attrs[] = [];
  for (const host of hosts) {
    for (const vm of snap.vmsInPool(host.id).filter((v) => isOurs(v))) {
      // A listing shows a container VM whose spec marker is damaged rather than fail on it; refresh refuses it.
      const state = stateOfVm(vm, { strict: false });
      containerVms.push(state);
      const digest = String(state.image_id ?? '');
      if (!digest) continue;
      const key = `${host.id} ${digest}`;
      images.set(key, { digest, vchId: host.id, users: (images.get(key)?.users ?? 0) + 1 });
    }
  }
  return { hosts, images: [...images.values()], containerVms };
}
