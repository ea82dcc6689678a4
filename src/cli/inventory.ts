/**
 * `vic ls`: the VCHs, images and container VMs with their power states, either those of a state
 * file (refreshed, so what vSphere holds now) or, with `--all`, everything vic-iac made that
 * vSphere holds, found by the markers on pools and VMs.
 */
import type { Engine } from '../engine/types';
import { VsphereEngine } from '../engine';
import { refreshStack, type StackState } from '../engine/stack';
import { takeSnapshot } from '../resources/snapshot';
import { rootFolder } from '../vsphere/property-collector';
import { retrieveFromContainer } from '../vsphere/property-collector';

export interface InventoryRow {
  readonly kind: 'virtual_container_host' | 'image' | 'container_vm';
  /** The state address, when the row comes from a state file. */
  readonly address?: string;
  readonly name: string;
  readonly id: string;
  /** VCH: "ready"; image: "stored"; container VM: poweredOn/poweredOff; "gone" when vSphere lost it. */
  readonly status: string;
  readonly detail: string;
}

const SHORT_DIGEST = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** The state's resources as vSphere has them now (one batched refresh). */
export async function inventoryFromState(engine: Engine, state: StackState): Promise<InventoryRow[]> {
  const refreshed = await refreshStack(engine, state);
  const rows: InventoryRow[] = [];
  for (const [address, entry] of Object.entries(state.resources)) {
    const now = refreshed.resources[address]?.attrs;
    const a = now ?? entry.attrs;
    const gone = now === undefined;
    if (entry.type === 'virtual_container_host') {
      rows.push({ kind: entry.type, address, name: str(a.name), id: str(a.id), status: gone ? 'gone' : 'ready', detail: `store ${str(a.image_store)}` });
    } else if (entry.type === 'image') {
      rows.push({ kind: entry.type, address, name: str(a.reference), id: str(a.id), status: gone ? 'gone' : 'stored', detail: `${Math.ceil(Number(a.size_bytes ?? 0) / 1048576)} MiB disk in ${str(a.disk_path).replace(/\/[^/]*$/, '/')}` });
    } else {
      rows.push({
        kind: entry.type,
        address,
        name: str(a.name),
        id: str(a.moid),
        status: gone ? 'gone' : a.power_state === 'running' ? 'poweredOn' : 'poweredOff',
        detail: `${str(a.cpus)} vCPU ${str(a.memory_mb)} MB image ${SHORT_DIGEST(str(a.image_id))}`,
      });
    }
  }
  const rank = { virtual_container_host: 0, image: 1, container_vm: 2 };
  return rows.sort((x, y) => rank[x.kind] - rank[y.kind] || x.name.localeCompare(y.name));
}

/** Everything vic-iac made that vSphere holds: VCH pools by their marker, container VMs by theirs. */
export async function inventoryFromVsphere(engine: Engine): Promise<InventoryRow[]> {
  if (!(engine instanceof VsphereEngine)) throw new Error('vic ls --all needs a vSphere engine');
  const client = engine.client;
  const pools = await retrieveFromContainer<{ name: string }>(client, { container: rootFolder(client), select: [{ type: 'ResourcePool', paths: ['name'] }] });
  const snap = await takeSnapshot(client, pools.map((p) => p.ref.value));
  const rows: InventoryRow[] = [];
  const images = new Map<string, { vch: string; users: number }>();
  const vchs = [...snap.pools.values()].filter((p) => p.marker).sort((a, b) => a.name.localeCompare(b.name));
  for (const pool of vchs) {
    const m = pool.marker!;
    rows.push({ kind: 'virtual_container_host', name: m.name, id: pool.moid, status: 'ready', detail: `store [${m.datastore}] ${m.image_store_path}` });
    const vms = snap.vmsInPool(pool.moid).filter((vm) => vm.extraConfig.get('vic.owner') === 'vic-iac').sort((a, b) => a.name.localeCompare(b.name));
    for (const vm of vms) {
      const digest = vm.extraConfig.get('vic.image') ?? '';
      if (digest) {
        const key = `${pool.moid} ${digest}`;
        images.set(key, { vch: m.name, users: (images.get(key)?.users ?? 0) + 1 });
      }
      rows.push({ kind: 'container_vm', name: vm.name, id: vm.moid, status: vm.powerState, detail: `${vm.numCpu} vCPU ${vm.memoryMb} MB image ${SHORT_DIGEST(digest)} in ${m.name}` });
    }
  }
  for (const [key, use] of images) {
    const digest = key.split(' ')[1];
    rows.push({ kind: 'image', name: SHORT_DIGEST(digest), id: digest, status: 'in use', detail: `${use.users} container VM${use.users === 1 ? '' : 's'} in ${use.vch}` });
  }
  const rank = { virtual_container_host: 0, image: 1, container_vm: 2 };
  return rows.sort((x, y) => rank[x.kind] - rank[y.kind]);
}

/** A plain table; the status column coloured by the caller's styles. */
export function renderInventory(rows: readonly InventoryRow[], colour: (status: string) => string): string {
  if (rows.length === 0) return 'Nothing here: no VCHs, images or container VMs.\n';
  const kindLabel = { virtual_container_host: 'VCH', image: 'IMAGE', container_vm: 'CONTAINER VM' };
  // Digests are long; the table shows as much as `docker images` does (--json has them whole).
  const shortId = (id: string) => (id.startsWith('sha256:') ? id.slice(0, 19) : id);
  const table = [['KIND', 'NAME', 'ID', 'STATUS', 'DETAIL'], ...rows.map((r) => [kindLabel[r.kind], r.name, shortId(r.id), r.status, r.detail])];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((row) => row[i].length)));
  return `${table
    .map((row, i) => {
      const cells = row.map((c, j) => (j < 4 ? c.padEnd(widths[j]) : c));
      if (i > 0) cells[3] = colour(row[3]) + ' '.repeat(widths[3] - row[3].length);
      return cells.join('  ').trimEnd();
    })
    .join('\n')}\n`;
}
