/**
 * The batched refresh: ONE RetrievePropertiesEx (plus continuation pages) reads every VCH pool the
 * plan touches, every VM inside those pools and the custom field definitions, however many
 * resources there are. Resources then read their state from the snapshot without further calls.
 */
import { DatastoreImageStore } from '../images';
import { asArray, moRef, type ManagedObjectReference, type VimClient } from '../vsphere';
import { retrieveObjects, retrievePropertiesEx } from '../vsphere/property-collector';
import { ResourceError } from './errors';

/** Custom field on VCH resource pools holding the VCH marker (JSON). */
export const VCH_MARKER_FIELD = 'vic-iac.vch';

/** What a VCH remembers about itself, on its pool (vCenter has no other place on a pool). */
export interface VchMarker {
  readonly v: 1;
  readonly name: string;
  readonly datacenter: string;
  readonly datacenter_id: string;
  readonly datastore: string;
  readonly datastore_id: string;
  readonly image_store_path: string;
  readonly bridge_network: string | null;
  readonly bootstrap_iso: string | null;
  /** Set when vic-iac uploaded the ISO itself: the content it uploaded. */
  readonly bootstrap_iso_sha256?: string | null;
  readonly folder_id: string | null;
  readonly compute: string;
  /**
   * True from the first SetField of a create until its last: a pool marked so is a create that
   * stopped midway, which the next create of the same VCH adopts; a VCH without it is complete and
   * belongs to whichever state that create returned to.
   */
  readonly pending?: boolean;
}

/** The image store of a VCH, on its datastore, as the marker describes it. */
export function imageStoreOf(client: VimClient, marker: VchMarker): DatastoreImageStore {
  return new DatastoreImageStore({
    client,
    datacenter: { ref: moRef('Datacenter', marker.datacenter_id), path: marker.datacenter },
    datastore: marker.datastore,
    path: marker.image_store_path,
  });
}

export interface Allocation {
  readonly reservation: number;
  readonly limit: number;
  readonly shares: string;
}

export interface PoolRow {
  readonly moid: string;
  readonly name: string;
  readonly cpu: Allocation;
  readonly memory: Allocation;
  readonly marker?: VchMarker;
  /** Set when the pool carries a marker that does not parse: an error, never "not ours" or "gone". */
  readonly markerError?: string;
  /** Empty when the read left the VMs out (`vms: false`): a pool's list of VMs grows with it. */
  readonly vmMoids: readonly string[];
}

export interface VmRow {
  readonly moid: string;
  readonly name: string;
  readonly uuid?: string;
  readonly powerState: string;
  /** Last occurrence wins: vcsim appends extraConfig entries instead of replacing them. */
  readonly extraConfig: ReadonlyMap<string, string>;
  readonly numCpu: number;
  readonly memoryMb: number;
  readonly vmPath?: string;
  readonly ipAddresses: readonly string[];
  /** When vSphere made the VM (`config.createDate`, the server's clock); absent before vSphere 6.7. */
  readonly createdAt?: string;
  /** Custom field values by field name: read only where asked for (`customValues`), absent otherwise. */
  readonly customValues?: ReadonlyMap<string, string>;
}

/** Only what a container VM's state needs: a refresh of a VCH reads these for every VM in its pool. */
export const VM_PATHS = [
  'name',
  'config.uuid',
  'config.extraConfig',
  'config.hardware.numCPU',
  'config.hardware.memoryMB',
  'runtime.powerState',
  'summary.config.vmPathName',
  'guest.net',
  'guest.ipAddress',
  'config.createDate',
] as const;

/** `vm` only where the VMs are read too: the pool's list of them is as long as the pool is full. */
const POOL_PATHS = ['name', 'config.cpuAllocation', 'config.memoryAllocation', 'customValue'] as const;

export class InventorySnapshot {
  readonly pools = new Map<string, PoolRow>();
  readonly vms = new Map<string, VmRow>();
  readonly vmsByUuid = new Map<string, VmRow>();
  /** The pools asked for that exist no more. */
  readonly missingPools = new Set<string>();

  vmsInPool(poolMoid: string): VmRow[] {
    const pool = this.pools.get(poolMoid);
    return pool ? pool.vmMoids.map((m) => this.vms.get(m)).filter((v): v is VmRow => v !== undefined) : [];
  }
}

function num(v: unknown, fallback = 0): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function allocation(v: unknown): Allocation {
  const a = (v ?? {}) as { reservation?: unknown; limit?: unknown; shares?: { level?: string; shares?: unknown } };
  const level = a.shares?.level ?? 'normal';
  return { reservation: num(a.reservation), limit: num(a.limit, -1), shares: level === 'custom' ? String(num(a.shares?.shares)) : level };
}

export function extraConfigMap(v: unknown): Map<string, string> {
  const m = new Map<string, string>();
  for (const o of asArray(v as Array<{ key: string; value?: unknown }> | undefined)) {
    if (o && typeof o.key === 'string') m.set(o.key, o.value === undefined || o.value === null ? '' : String(o.value));
  }
  return m;
}

/** `fieldNames` (custom field key → name) turns a `customValue` read with the row into `customValues`. */
export function vmRow(moid: string, p: Record<string, unknown>, fieldNames?: ReadonlyMap<number, string>): VmRow {
  const ips = new Set<string>();
  if (typeof p['guest.ipAddress'] === 'string' && p['guest.ipAddress']) ips.add(p['guest.ipAddress'] as string);
  for (const nic of asArray(p['guest.net'] as Array<{ ipAddress?: string[] }> | undefined)) for (const ip of asArray(nic.ipAddress)) ips.add(ip);
  return {
    moid,
    name: String(p.name ?? ''),
    uuid: typeof p['config.uuid'] === 'string' ? (p['config.uuid'] as string).toLowerCase() : undefined,
    powerState: String(p['runtime.powerState'] ?? 'poweredOff'),
    extraConfig: extraConfigMap(p['config.extraConfig']),
    numCpu: num(p['config.hardware.numCPU'], 1),
    memoryMb: num(p['config.hardware.memoryMB']),
    vmPath: p['summary.config.vmPathName'] as string | undefined,
    ipAddresses: [...ips],
    ...(typeof p['config.createDate'] === 'string' && p['config.createDate'] !== '' ? { createdAt: p['config.createDate'] } : {}),
    ...(fieldNames && 'customValue' in p ? { customValues: customValueMap(p.customValue, fieldNames) } : {}),
  };
}

/** Custom field key → name, from the CustomFieldsManager row of a read that asked for its `field`. */
function fieldNamesIn(rows: ReadonlyArray<{ ref: ManagedObjectReference; props: Record<string, unknown> }>): Map<number, string> {
  const names = new Map<number, string>();
  for (const row of rows) {
    if (row.ref.type !== 'CustomFieldsManager') continue;
    for (const f of asArray(row.props.field as Array<{ key: number; name: string }> | undefined)) names.set(num(f.key), f.name);
  }
  return names;
}

/**
 * One VM's row, in one round trip; with `customValues`, its custom field values too (whether a
 * create finished is one), read together with the field names where vSphere has custom fields.
 */
export async function readVmRow(client: VimClient, ref: ManagedObjectReference, options: { customValues?: boolean } = {}): Promise<VmRow | undefined> {
  const manager = options.customValues ? client.serviceContent.customFieldsManager : undefined;
  if (!manager) {
    const [row] = await retrieveObjects(client, [ref], [...VM_PATHS]);
    return row ? vmRow(row.ref.value, row.props) : undefined;
  }
  const rows = await retrieveObjects(client, [ref, manager], { VirtualMachine: [...VM_PATHS, 'customValue'], CustomFieldsManager: ['field'] });
  const row = rows.find((r) => r.ref.type === 'VirtualMachine');
  return row ? vmRow(row.ref.value, row.props, fieldNamesIn(rows)) : undefined;
}

/** vcsim appends on every SetField instead of replacing: the last value of a key wins. */
function customValueMap(v: unknown, fieldNames: ReadonlyMap<number, string>): Map<string, string> {
  const m = new Map<string, string>();
  for (const cv of asArray(v as Array<{ key: number; value?: string }> | undefined)) {
    const name = fieldNames.get(num(cv.key));
    if (name !== undefined) m.set(name, cv.value ?? '');
  }
  return m;
}

/** A VCH marker from its custom field value; what does not parse (or lacks the fields every reader needs) is an error. */
export function parseVchMarker(text: string): { marker?: VchMarker; error?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { error: `it is not JSON (${(err as Error).message})` };
  }
  const m = parsed as Partial<VchMarker> | null;
  const missing = ['name', 'datacenter_id', 'datastore', 'image_store_path'].filter((k) => typeof (m as Record<string, unknown> | null)?.[k] !== 'string');
  if (!m || typeof m !== 'object' || m.v !== 1 || missing.length > 0) {
    return { error: `it is not a version 1 VCH marker${missing.length > 0 ? ` (missing ${missing.join(', ')})` : ''}` };
  }
  return { marker: m as VchMarker };
}

/** The marker of one VCH pool, without reading its VMs; undefined when the pool is gone or not ours. */
export async function readVchMarker(client: VimClient, poolMoid: string): Promise<VchMarker | undefined> {
  const pool = (await takeSnapshot(client, [poolMoid], { vms: false })).pools.get(poolMoid);
  if (pool?.markerError) throw unreadableMarker(pool);
  return pool?.marker;
}

/** A pool whose marker does not parse: refused everywhere, so it is neither adopted, replaced nor deleted by guess. */
export function unreadableMarker(pool: Pick<PoolRow, 'moid' | 'name' | 'markerError'>): ResourceError {
  return new ResourceError(
    `resource pool "${pool.name}" (${pool.moid}) carries a "${VCH_MARKER_FIELD}" custom field that vic-iac cannot read: ${pool.markerError}. vic-iac will not adopt, replace or delete a VCH by guess. Restore the value vic-iac wrote (vSphere Client: the pool's Custom Attributes) and run the command again.`,
  );
}

/** Whether vSphere reports resource pool `moid` missing: the VCH a marker names was deleted (one read, no VMs). */
export async function poolIsGone(client: VimClient, moid: string): Promise<boolean> {
  return (await takeSnapshot(client, [moid], { vms: false })).missingPools.has(moid);
}

/**
 * Reads the given VCH pools and their VMs in one collector round trip. Pools that no longer exist
 * land in `missingPools` (reportMissingObjectsInResults), so a deleted VCH reads as gone rather
 * than failing the batch.
 */
export async function takeSnapshot(
  client: VimClient,
  poolMoids: Iterable<string>,
  options: { vms?: boolean; customValues?: boolean } = {},
): Promise<InventorySnapshot> {
  const withVms = options.vms ?? true;
  const snap = new InventorySnapshot();
  const pools = [...new Set(poolMoids)];
  if (pools.length === 0) return snap;
  const fieldsManager = client.serviceContent.customFieldsManager;
  const spec = {
    propSet: [
      { type: 'ResourcePool', pathSet: withVms ? [...POOL_PATHS, 'vm'] : [...POOL_PATHS] },
      { type: 'VirtualMachine', pathSet: options.customValues ? [...VM_PATHS, 'customValue'] : [...VM_PATHS] },
      ...(fieldsManager ? [{ type: 'CustomFieldsManager', pathSet: ['field'] }] : []),
    ],
    objectSet: [
      ...pools.map((value) => ({
        obj: moRef('ResourcePool', value),
        skip: false,
        selectSet: withVms ? [{ $type: 'TraversalSpec', name: 'poolVms', type: 'ResourcePool', path: 'vm', skip: false }] : undefined,
      })),
      ...(fieldsManager ? [{ obj: fieldsManager, skip: false }] : []),
    ],
    reportMissingObjectsInResults: true,
  };
  const rows = await retrievePropertiesEx(client, [spec], { maxObjects: 100000 });
  const fieldKeys = fieldNamesIn(rows);
  for (const row of rows) {
    if (row.missing.some((m) => m.fault === 'ManagedObjectNotFound')) {
      if (row.ref.type === 'ResourcePool') snap.missingPools.add(row.ref.value);
      continue;
    }
    if (row.ref.type === 'ResourcePool') {
      let marker: VchMarker | undefined;
      let markerError: string | undefined;
      for (const cv of asArray(row.props.customValue as Array<{ key: number; value?: string }> | undefined)) {
        if (fieldKeys.get(num(cv.key)) === VCH_MARKER_FIELD && cv.value) ({ marker, error: markerError } = parseVchMarker(cv.value));
      }
      snap.pools.set(row.ref.value, {
        moid: row.ref.value,
        name: String(row.props.name ?? ''),
        cpu: allocation(row.props['config.cpuAllocation']),
        memory: allocation(row.props['config.memoryAllocation']),
        marker,
        markerError,
        vmMoids: asArray(row.props.vm as ManagedObjectReference[] | undefined).map((r) => r.value),
      });
    } else if (row.ref.type === 'VirtualMachine') {
      const vm = vmRow(row.ref.value, row.props, options.customValues ? fieldKeys : undefined);
      snap.vms.set(vm.moid, vm);
      if (vm.uuid) snap.vmsByUuid.set(vm.uuid, vm);
    }
  }
  for (const p of pools) if (!snap.pools.has(p)) snap.missingPools.add(p);
  return snap;
}
