/** virtual_container_host: a resource pool, a VM folder and an image store on a datastore. */
import type { ResourceDeclaration } from './definition';
import { t, type AttrsOf } from './schema';
import { datastoreDirectory, datastorePath, integer, limit, nonEmpty, objectName, shares, withinLimit } from './validators';

export const virtualContainerHost = {
  type: 'virtual_container_host',
  className: 'VirtualContainerHost',
  description:
    'A virtual container host (VCH): a resource pool that bounds the CPU and memory of its container VMs, a VM folder that holds them, and an image store on a datastore.',
  schemaVersion: 1,
  migrations: {},
  // The pool's name is unique under its parent (and the folder's in the datacenter): two resources
  // with these would share one VCH. A replacement under the same name takes the old one's claim.
  identity: ['compute', 'name'],
  schema: {
    id: { type: t.string, computed: true, stable: true, description: 'The MOID of the VCH resource pool.' },
    name: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [objectName('virtual container host')],
      description: 'Name of the VCH: the resource pool, the VM folder and (by default) the image store directory.',
      example: 'vch-demo',
    },
    datacenter: {
      type: t.string,
      optional: true,
      forceNew: true,
      validate: [nonEmpty('Use a datacenter name, inventory path or MOID, or leave datacenter out when vSphere has only one.')],
      description: 'Datacenter name, inventory path or MOID. Optional when vSphere has only one datacenter.',
      example: 'DC0',
    },
    compute: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [nonEmpty('Use the inventory path or MOID of a cluster, a host or a resource pool, e.g. "/DC0/host/DC0_C0".')],
      description: 'Where the VCH pool goes: the inventory path or MOID of a cluster, a host or a resource pool.',
      example: '/DC0/host/DC0_C0',
    },
    datastore: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [nonEmpty('Use the name or MOID of a datastore, e.g. "LocalDS_0".')],
      description: 'Name or MOID of the datastore that holds the image store and the container VMs.',
      example: 'LocalDS_0',
    },
    image_store_path: {
      type: t.string,
      optional: true,
      computed: true,
      forceNew: true,
      validate: [datastoreDirectory],
      description:
        'Directory on the datastore for images and volumes: a relative path, not the datastore root, without "..". Defaults to the VCH name. It must not exist yet unless an earlier create of this VCH made it.',
    },
    bridge_network: {
      type: t.string,
      optional: true,
      validate: [nonEmpty('Use a portgroup name or MOID, or leave bridge_network out.')],
      description:
        'Portgroup name or MOID (standard or distributed) that container VMs join when they name no networks. It must exist when planned. Unset: a container VM that names no networks gets no NIC (and a static ip_address on it is refused at plan).',
      example: 'VM Network',
    },
    cpu_limit_mhz: {
      type: t.number,
      optional: true,
      default: -1,
      validate: [limit('MHz')],
      description: 'CPU limit of the pool in MHz; -1 for unlimited. Updates in place.',
    },
    cpu_reservation_mhz: {
      type: t.number,
      optional: true,
      default: 0,
      validate: [integer({ min: 0, unit: 'MHz' }), withinLimit('cpu_limit_mhz', 'MHz')],
      description: 'CPU reserved for the pool in MHz. Updates in place. The plan checks that the parent pool (or cluster) has that much left to reserve.',
    },
    cpu_shares: {
      type: t.string,
      optional: true,
      default: 'normal',
      validate: [shares],
      description: 'CPU shares: low, normal, high, or a number. Updates in place.',
    },
    memory_limit_mb: {
      type: t.number,
      optional: true,
      default: -1,
      validate: [limit('MB')],
      description: 'Memory limit of the pool in MB; -1 for unlimited. Updates in place.',
    },
    memory_reservation_mb: {
      type: t.number,
      optional: true,
      default: 0,
      validate: [integer({ min: 0, unit: 'MB' }), withinLimit('memory_limit_mb', 'MB')],
      description: 'Memory reserved for the pool in MB. Updates in place. The plan checks that the parent pool (or cluster) has that much left to reserve.',
    },
    memory_shares: {
      type: t.string,
      optional: true,
      default: 'normal',
      validate: [shares],
      description: 'Memory shares: low, normal, high, or a number. Updates in place.',
    },
    bootstrap_iso: {
      type: t.string,
      optional: true,
      computed: true,
      validate: [datastorePath],
      description:
        'Datastore path of the bootstrap ISO that container VMs boot, e.g. "[LocalDS_0] isos/bootstrap.iso"; the plan checks that the file is there. When left out and the project has built its ISO, it is uploaded to <image_store_path>/bootstrap.iso.',
    },
    force_destroy: {
      type: t.bool,
      optional: true,
      configOnly: true,
      default: false,
      description:
        'Destroy the VCH even when it still holds container VMs: they are powered off and deleted, and so is the image store (only when its marker file names this VCH). Without it, destroy refuses and lists them; containers made with the Docker endpoint, which no state removes, are refused at the plan, before the destroy removes anything. Only container VMs vic-iac made for this VCH are ever deleted: a VM it did not make in the pool or the folder fails the destroy, which names it, and so does a VM outside the pool with a disk in the image store (a container VM moved to another pool).',
    },
    resource_pool_id: { type: t.string, computed: true, stable: true, description: 'MOID of the resource pool.' },
    folder_id: { type: t.string, computed: true, stable: true, description: 'MOID of the VM folder (empty on a standalone ESXi host).' },
    image_store: { type: t.string, computed: true, stable: true, description: 'Datastore path of the image store, e.g. "[LocalDS_0] vch-demo".' },
  },
  dataSource: { description: 'Looks up an existing virtual container host by name.', lookup: ['name'], scope: ['datacenter'] },
  docs: {
    creates:
      'A resource pool under `compute` carrying the VCH limits, reservations and shares; on vCenter a VM folder named after the VCH; and the datastore directories `<image_store_path>/images`, `<image_store_path>/volumes` and `<image_store_path>/containers` (one directory per container VM). The pool and the folder carry the custom field `vic-iac.vch`, the image store the file `vic-iac-vch.json`: markers naming the VCH. A folder or directory of the same name that vic-iac did not make for this VCH is refused at plan time, never taken over (see docs/terraform.md, "What a VCH owns").',
    importHelp: 'Import by resource pool MOID (`resgroup-42`) or inventory path (`/DC0/host/DC0_C0/Resources/vch-demo`).',
    example: `resource "vic_virtual_container_host" "demo" {
  name           = "vch-demo"
  compute        = "/DC0/host/DC0_C0"
  datastore      = "LocalDS_0"
  bridge_network = "VM Network"
  memory_limit_mb = 8192
}`,
  },
} satisfies ResourceDeclaration;

/** A virtual container host's attributes as its lifecycle reads them. */
export type VchAttrs = AttrsOf<typeof virtualContainerHost.schema>;
