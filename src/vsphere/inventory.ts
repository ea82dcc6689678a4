/**
 * Finding inventory objects by inventory path (`/DC0/host/DC0_C0`), by name within a datacenter,
 * or by MOID, plus FindByUuid. A miss names what does exist nearby, so the user can fix the input:
 *   datastore "LocalDS_9" not found in datacenter "DC0" (known: LocalDS_0, LocalDS_1)
 */
import { InvalidArgumentError, NotFoundError, isNotFound } from './errors';
import { retrieveFromContainer, retrieveObject, retrievePropertiesEx, rootFolder, type ObjectRow } from './property-collector';
import type { VimClient } from './session';
import { isMoRef, moRef, type ManagedObjectReference } from './xml';

/** An inventory path (`/DC0/datastore/LocalDS_0`), a name, a MOID string, or a MoRef. */
export type InventoryId = string | ManagedObjectReference;

export interface Datacenter {
  readonly ref: ManagedObjectReference;
  readonly name: string;
  readonly vmFolder: ManagedObjectReference;
  readonly hostFolder: ManagedObjectReference;
  readonly datastoreFolder: ManagedObjectReference;
  readonly networkFolder: ManagedObjectReference;
}

export interface InventoryObject {
  readonly ref: ManagedObjectReference;
  readonly name: string;
}

/** A network a NIC can attach to: a standard portgroup, or a DVS portgroup with what its backing needs. */
export type NetworkTarget =
  | { readonly kind: 'standard'; readonly ref: ManagedObjectReference; readonly name: string }
  | {
      readonly kind: 'distributed';
      readonly ref: ManagedObjectReference;
      readonly name: string;
      readonly portgroupKey: string;
      readonly switchUuid: string;
      readonly switchRef: ManagedObjectReference;
    };

export type InventoryKind = 'cluster' | 'host' | 'computeResource' | 'resourcePool' | 'folder' | 'datastore' | 'network';

const KIND_TYPES: Record<InventoryKind, readonly string[]> = {
  cluster: ['ClusterComputeResource'],
  host: ['HostSystem'],
  computeResource: ['ComputeResource'],
  resourcePool: ['ResourcePool'],
  folder: ['Folder'],
  datastore: ['Datastore'],
  network: ['Network', 'DistributedVirtualPortgroup'],
};

const KIND_WORDS: Record<InventoryKind, string> = {
  cluster: 'cluster',
  host: 'host',
  computeResource: 'compute resource',
  resourcePool: 'resource pool',
  folder: 'folder',
  datastore: 'datastore',
  network: 'network',
};

/**
 * The datacenter folder whose subtree holds every object of a kind: read with one traversal (one
 * round trip) instead of a container view of the whole datacenter (create, read, destroy: three).
 */
const FOLDER_OF: Partial<Record<InventoryKind, 'networkFolder' | 'datastoreFolder'>> = {
  network: 'networkFolder',
  datastore: 'datastoreFolder',
};

/** Folder.childEntity, into every subfolder. */
const FOLDER_CHILDREN = {
  $type: 'TraversalSpec',
  name: 'folderChildren',
  type: 'Folder',
  path: 'childEntity',
  skip: false,
  selectSet: [{ $type: 'SelectionSpec', name: 'folderChildren' }],
};

const MAX_KNOWN = 20;

/** Names for a message: sorted, once each, at most MAX_KNOWN of them. */
export function knownList(names: readonly string[]): string {
  const unique = [...new Set(names)].sort();
  if (unique.length === 0) return 'none';
  return unique.length > MAX_KNOWN ? `${unique.slice(0, MAX_KNOWN).join(', ')}, … ${unique.length - MAX_KNOWN} more` : unique.join(', ');
}

/** Looks up inventory objects. Cheap to create; holds no server state. */
export class Inventory {
  constructor(private readonly client: VimClient) {}

  /**
   * Every datacenter, with its folders: one traversal of the folders from the root folder (one round
   * trip), not a container view of the whole inventory (create, read, destroy: three). Datacenters
   * sit only in folders, so the traversal stops at each one.
   */
  async datacenters(): Promise<Datacenter[]> {
    const rows = await retrievePropertiesEx<Record<string, unknown>>(this.client, [
      {
        propSet: [{ type: 'Datacenter', pathSet: ['name', 'vmFolder', 'hostFolder', 'datastoreFolder', 'networkFolder'] }],
        objectSet: [{ obj: rootFolder(this.client), skip: true, selectSet: [FOLDER_CHILDREN] }],
      },
    ]);
    return rows
      .filter((row) => row.ref.type === 'Datacenter')
      .map((row) => ({
        ref: row.ref,
        name: row.props.name as string,
        vmFolder: row.props.vmFolder as ManagedObjectReference,
        hostFolder: row.props.hostFolder as ManagedObjectReference,
        datastoreFolder: row.props.datastoreFolder as ManagedObjectReference,
        networkFolder: row.props.networkFolder as ManagedObjectReference,
      }));
  }

  /** A datacenter by path (`/DC0`), name or MOID; with no id, the only datacenter there is. */
  async datacenter(id?: InventoryId): Promise<Datacenter> {
    const all = await this.datacenters();
    if (id === undefined) {
      if (all.length === 1) return all[0];
      throw new InvalidArgumentError(
        { faultName: 'InvalidArgument', method: 'RetrievePropertiesEx', object: rootFolder(this.client) },
        `${all.length === 0 ? 'no datacenter exists' : `several datacenters exist (${knownList(all.map((d) => d.name))})`}; name the datacenter to use`,
      );
    }
    const wanted = isMoRef(id) ? id.value : id;
    let found = all.find((d) => d.ref.value === wanted || d.name === wanted || `/${d.name}` === wanted);
    if (!found && typeof id === 'string' && id.startsWith('/')) {
      const ref = await this.findByInventoryPath(id);
      found = ref && all.find((d) => d.ref.value === ref.value);
    }
    if (!found) {
      throw new NotFoundError(
        { faultName: 'NotFound', method: 'RetrievePropertiesEx', object: rootFolder(this.client) },
        `datacenter "${wanted}" not found (known: ${knownList(all.map((d) => d.name))})`,
      );
    }
    return found;
  }

  /** SearchIndex.FindByInventoryPath; undefined when nothing is at that path. */
  async findByInventoryPath(path: string): Promise<ManagedObjectReference | undefined> {
    const ref = await this.client.call<ManagedObjectReference | undefined>(
      'FindByInventoryPath',
      this.client.serviceContent.searchIndex,
      { inventoryPath: path },
      { returns: 'moref' },
    );
    return ref && ref.value ? ref : undefined;
  }

  /** SearchIndex.FindByUuid for a VM's BIOS UUID (`config.uuid`); undefined when no VM has it. */
  async findVmByUuid(uuid: string, datacenter?: Datacenter): Promise<ManagedObjectReference | undefined> {
    const ref = await this.client.call<ManagedObjectReference | undefined>(
      'FindByUuid',
      this.client.serviceContent.searchIndex,
      { datacenter: datacenter?.ref, uuid, vmSearch: true, instanceUuid: false },
      { returns: 'moref' },
    );
    return ref && ref.value ? ref : undefined;
  }

  /** SearchIndex.FindChild: the direct child of a folder (or datacenter, pool) with this name; undefined when none. */
  async findChild(entity: ManagedObjectReference, name: string): Promise<ManagedObjectReference | undefined> {
    const ref = await this.client.call<ManagedObjectReference | undefined>(
      'FindChild',
      this.client.serviceContent.searchIndex,
      { entity, name },
      { returns: 'moref' },
    );
    return ref && ref.value ? ref : undefined;
  }

  /**
   * Finds one object of `kind` in `datacenter` by inventory path, name or MOID. An ambiguous name
   * (e.g. every cluster's root pool is called "Resources") asks for a path or MOID instead.
   */
  async find(kind: InventoryKind, datacenter: Datacenter, id: InventoryId): Promise<InventoryObject> {
    const types = KIND_TYPES[kind];
    const word = KIND_WORDS[kind];
    if (isMoRef(id)) return this.byMoRef(kind, id);

    if (id.startsWith('/')) {
      const ref = await this.findByInventoryPath(id);
      if (ref && types.includes(ref.type)) {
        const name = (await retrieveObject<{ name: string }>(this.client, ref, ['name'])).name;
        return { ref, name };
      }
      if (ref && kind === 'resourcePool' && (ref.type === 'ClusterComputeResource' || ref.type === 'ComputeResource')) {
        // A cluster or host path stands for its root resource pool.
        const pool = (await retrieveObject<{ resourcePool: ManagedObjectReference }>(this.client, ref, ['resourcePool'])).resourcePool;
        return { ref: pool, name: 'Resources' };
      }
      const known = await this.list(kind, datacenter);
      throw new NotFoundError(
        { faultName: 'NotFound', method: 'FindByInventoryPath', object: this.client.serviceContent.searchIndex },
        ref
          ? `${word} path "${id}" leads to a ${ref.type} (${ref.value}), not a ${word}`
          : `${word} "${id}" not found in datacenter "${datacenter.name}" (known: ${knownList(known.map((k) => k.name))})`,
      );
    }

    const known = await this.list(kind, datacenter);
    const byName = known.filter((k) => k.name === id);
    if (byName.length === 1) return byName[0];
    if (byName.length > 1) {
      throw new InvalidArgumentError(
        { faultName: 'InvalidArgument', method: 'RetrievePropertiesEx', object: datacenter.ref },
        `${word} name "${id}" is ambiguous in datacenter "${datacenter.name}" (${byName.map((k) => k.ref.value).join(', ')}); use its inventory path or MOID`,
      );
    }
    const byMoid = known.find((k) => k.ref.value === id);
    if (byMoid) return byMoid;
    throw new NotFoundError(
      { faultName: 'NotFound', method: 'RetrievePropertiesEx', object: datacenter.ref },
      `${word} "${id}" not found in datacenter "${datacenter.name}" (known: ${knownList(known.map((k) => k.name))})`,
    );
  }

  /** Every object of `kind` in `datacenter`, with names (one view query). */
  async list(kind: InventoryKind, datacenter: Datacenter): Promise<InventoryObject[]> {
    const folder = FOLDER_OF[kind];
    const select = KIND_TYPES[kind].map((type) => ({ type, paths: ['name'] }));
    const rows: Array<ObjectRow<{ name: string }>> = folder
      ? await retrievePropertiesEx<{ name: string }>(this.client, [
          {
            propSet: select.map((s) => ({ type: s.type, pathSet: s.paths })),
            objectSet: [
              {
                obj: datacenter.ref,
                skip: true,
                selectSet: [{ $type: 'TraversalSpec', name: 'dcFolder', type: 'Datacenter', path: folder, skip: false, selectSet: [FOLDER_CHILDREN] }],
              },
            ],
          },
        ])
      : await retrieveFromContainer<{ name: string }>(this.client, { container: datacenter.ref, select });
    const seen = new Set<string>();
    const out: InventoryObject[] = [];
    for (const row of rows) {
      const key = `${row.ref.type}:${row.ref.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ref: row.ref, name: row.props.name });
    }
    return out;
  }

  private async byMoRef(kind: InventoryKind, ref: ManagedObjectReference): Promise<InventoryObject> {
    if (!KIND_TYPES[kind].includes(ref.type)) {
      throw new InvalidArgumentError(
        { faultName: 'InvalidArgument', method: 'RetrievePropertiesEx', object: ref },
        `${ref.type} ${ref.value} is not a ${KIND_WORDS[kind]}`,
      );
    }
    try {
      const { name } = await retrieveObject<{ name: string }>(this.client, ref, ['name']);
      return { ref, name };
    } catch (err) {
      if (isNotFound(err)) {
        throw new NotFoundError(
          { faultName: 'ManagedObjectNotFound', method: 'RetrievePropertiesEx', object: ref },
          `${KIND_WORDS[kind]} ${ref.value} not found`,
        );
      }
      throw err;
    }
  }

  cluster(datacenter: Datacenter, id: InventoryId): Promise<InventoryObject> {
    return this.find('cluster', datacenter, id);
  }
  host(datacenter: Datacenter, id: InventoryId): Promise<InventoryObject> {
    return this.find('host', datacenter, id);
  }
  resourcePool(datacenter: Datacenter, id: InventoryId): Promise<InventoryObject> {
    return this.find('resourcePool', datacenter, id);
  }
  folder(datacenter: Datacenter, id: InventoryId): Promise<InventoryObject> {
    return this.find('folder', datacenter, id);
  }
  datastore(datacenter: Datacenter, id: InventoryId): Promise<InventoryObject> {
    return this.find('datastore', datacenter, id);
  }

  /** A network by path, name or MOID, with the DVS switch UUID and portgroup key a DVS backing needs. */
  async network(datacenter: Datacenter, id: InventoryId): Promise<NetworkTarget> {
    const found = await this.find('network', datacenter, id);
    if (found.ref.type !== 'DistributedVirtualPortgroup') return { kind: 'standard', ref: found.ref, name: found.name };
    const pg = await retrieveObject<{ key: string; 'config.distributedVirtualSwitch': ManagedObjectReference }>(this.client, found.ref, [
      'key',
      'config.distributedVirtualSwitch',
    ]);
    const switchRef = pg['config.distributedVirtualSwitch'];
    const { uuid } = await retrieveObject<{ uuid: string }>(this.client, switchRef, ['uuid']);
    return { kind: 'distributed', ref: found.ref, name: found.name, portgroupKey: pg.key, switchUuid: uuid, switchRef };
  }
}

/** The root resource pool of a cluster or standalone host. */
export async function rootResourcePool(client: VimClient, computeResource: ManagedObjectReference): Promise<ManagedObjectReference> {
  const props = await retrieveObject<{ resourcePool: ManagedObjectReference }>(client, computeResource, ['resourcePool']);
  return props.resourcePool ?? moRef('ResourcePool', '');
}
