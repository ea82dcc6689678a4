/**
 * `vic ls`: the VCHs, images, volumes and container VMs with their power states, either those of a state
 * file (refreshed, so what vSphere holds now) or, with `--all`, everything vic-iac made that
 * vSphere holds, found by the markers on pools and VMs.
 */
import { refreshStack, type Engine, type StackState } from '../engine';
import { declarationFor, type Attrs, type ResourceType } from '../resources';

/**
 * The ID `vic import` (and Terraform's import) takes for an object of `type` with these attributes,
 * per ResourceDeclaration.importId: an image's is `<vch_id>/<digest>`, the others' their id.
 */
export function importIdOf(type: ResourceType, attrs: Attrs): string {
  return (declarationFor(type).importId ?? ['id']).map((n) => str(attrs[n])).join('/');
}

export interface InventoryRow {
  readonly kind: 'virtual_container_host' | 'image' | 'volume' | 'container_vm';
  /** The state address, when the row comes from a state file. */
  readonly address?: string;
  readonly name: string;
  readonly id: string;
  /** The ID `vic import` takes for this object (importIdOf): an image's is `<vch_id>/<digest>`. */
  readonly import_id: string;
  /** VCH: "ready"; image: "stored"; container VM: poweredOn/poweredOff; "gone" when vSphere lost it. */
  readonly status: string;
  /** Container VM: its process as the guest reports it ("running", "exited (1)", "created"). */
  readonly process?: string;
  readonly detail: string;
}

/**
 * The container's process for the PROCESS column: the status, with the exit code once it ended; a
 * powered-on VM whose guest waits for a free slot of the simulator says so (its last status is an
 * earlier run's).
 */
export function processOf(a: Attrs): string {
  if (a.guest_queued === true) return 'queued (the guest waits for a free slot)';
  const status = str(a.status);
  return status === 'exited' && a.exit_code !== null && a.exit_code !== undefined ? `exited (${str(a.exit_code)})` : status;
}

/**
 * The VM's power state from a container VM's attributes. power_state "running" is vSphere's
 * poweredOn, except for a run-once container (must_run false) that ran to its end: it keeps the
 * "running" it was asked for while its VM is off.
 */
export function vmPowerOf(a: Attrs): 'poweredOn' | 'poweredOff' {
  if (a.power_state !== 'running') return 'poweredOff';
  return a.must_run === false && a.status === 'exited' && a.guest_queued !== true ? 'poweredOff' : 'poweredOn';
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
    // What every row says: its kind, address, name, id and the id vic import takes.
    const row = (name: unknown, id: unknown) => ({ kind: entry.type, address, name: str(name), id: str(id), import_id: importIdOf(entry.type, a) });
    if (entry.type === 'virtual_container_host') {
      rows.push({ ...row(a.name, a.id), status: gone ? 'gone' : 'ready', detail: `store ${str(a.image_store)}` });
    } else if (entry.type === 'image') {
      rows.push({
        ...row(a.reference, a.id),
        status: gone ? 'gone' : 'stored',
        detail: `${Math.ceil(Number(a.size_bytes ?? 0) / 1048576)} MiB disk in ${str(a.disk_path).replace(/\/[^/]*$/, '/')}`,
      });
    } else if (entry.type === 'volume') {
      rows.push({ ...row(a.name, a.id), status: gone ? 'gone' : 'stored', detail: `${str(a.size_mb)} MB ext4` });
    } else {
      rows.push({
        ...row(a.name, a.moid),
        status: gone ? 'gone' : vmPowerOf(a),
        process: gone ? '' : processOf(a),
        detail: `${str(a.cpus)} vCPU ${str(a.memory_mb)} MB image ${SHORT_DIGEST(str(a.image_id))}`,
      });
    }
  }
  const rank = { virtual_container_host: 0, image: 1, volume: 2, container_vm: 3 };
  return rows.sort((x, y) => rank[x.kind] - rank[y.kind] || x.name.localeCompare(y.name));
}

/** Everything vic-iac made that vSphere holds: VCH pools by their marker, container VMs by theirs, volumes in the VCHs' stores. */
export async function inventoryFromVsphere(engine: Engine): Promise<InventoryRow[]> {
  const { hosts, images, containerVms } = await engine.inventory();
  const names = new Map(hosts.map((h) => [h.id, h.marker.name]));
  const rows: InventoryRow[] = [];
  for (const h of hosts)
    rows.push({
      kind: 'virtual_container_host',
      name: h.marker.name,
      id: h.id,
      import_id: importIdOf('virtual_container_host', { id: h.id }),
      status: 'ready',
      detail: `store [${h.marker.datastore}] ${h.marker.image_store_path}`,
    });
  for (const i of images) {
    rows.push({
      kind: 'image',
      name: SHORT_DIGEST(i.digest),
      id: i.digest,
      import_id: importIdOf('image', { vch_id: i.vchId, id: i.digest }),
      status: 'in use',
      detail: `${i.users} container VM${i.users === 1 ? '' : 's'} in ${names.get(i.vchId) ?? i.vchId}`,
    });
  }
  // Volumes carry no marker in the inventory: each VCH's store is listed (one folder search each).
  const volumesOf = await Promise.all(hosts.map((h) => engine.listIn('volume', h.id)));
  hosts.forEach((h, i) => {
    for (const v of volumesOf[i]) {
      const users = containerVms.filter((vm) => Array.isArray(vm.volumes) && (vm.volumes as Attrs[]).some((m) => m.volume_id === v.id)).length;
      rows.push({
        kind: 'volume',
        name: str(v.name),
        id: str(v.id),
        import_id: importIdOf('volume', v),
        status: users > 0 ? 'in use' : 'stored',
        detail: `${str(v.size_mb)} MB ext4 in ${h.marker.name}${users > 0 ? `, mounted by ${users} container VM${users === 1 ? '' : 's'}` : ''}`,
      });
    }
  });
  for (const vm of containerVms) {
    rows.push({
      kind: 'container_vm',
      name: str(vm.name),
      id: str(vm.moid),
      import_id: importIdOf('container_vm', vm),
      status: vmPowerOf(vm),
      process: processOf(vm),
      detail: `${str(vm.cpus)} vCPU ${str(vm.memory_mb)} MB image ${SHORT_DIGEST(str(vm.image_id))} in ${names.get(str(vm.vch_id)) ?? str(vm.vch_id)}`,
    });
  }
  const rank = { virtual_container_host: 0, image: 1, volume: 2, container_vm: 3 };
  return rows.sort((x, y) => rank[x.kind] - rank[y.kind] || x.name.localeCompare(y.name));
}

/** A plain table; the status column coloured by the caller's styles. */
export function renderInventory(rows: readonly InventoryRow[], colour: (status: string) => string): string {
  if (rows.length === 0) return 'Nothing here: no VCHs, images, volumes or container VMs.\n';
  const kindLabel = { virtual_container_host: 'VCH', image: 'IMAGE', volume: 'VOLUME', container_vm: 'CONTAINER VM' };
  // Digests are long; the table shows as much as `docker images` does (--json has them whole).
  const shortId = (id: string) => (id.startsWith('sha256:') ? id.slice(0, 19) : id);
  const table = [
    ['KIND', 'NAME', 'ID', 'STATUS', 'PROCESS', 'DETAIL'],
    ...rows.map((r) => [kindLabel[r.kind], r.name, shortId(r.id), r.status, r.process ?? '', r.detail]),
  ];
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...table.map((row) => row[i].length)));
  return `${table
    .map((row, i) => {
      const cells = row.map((c, j) => (j < 5 ? c.padEnd(widths[j]) : c));
      if (i > 0) cells[3] = colour(row[3]) + ' '.repeat(widths[3] - row[3].length);
      return cells.join('  ').trimEnd();
    })
    .join('\n')}\n`;
}
