/**
 * The bad-inputs table of the reliability suite: every row is one input a user can get wrong, the
 * exact problems the plan must report (attribute path, summary, detail naming the value, what is
 * allowed and what to do) and nothing created in vSphere. bad-inputs.test.ts runs every row through
 * the engine; bad-inputs.e2e.test.ts runs the rows marked `terraform` through `terraform plan`.
 *
 * Rows take the fixtures (a VCH and an image made in the test's simulator) as a function argument,
 * since their ids are known only once the simulator runs.
 */
import type { Attrs, ResourceType } from '../../src/resources';

export interface Fixtures {
  /** MOID of a VCH made by the engine (with the project's bootstrap ISO uploaded into it). */
  readonly vchId: string;
  /** Digest of an image in that VCH's image store. */
  readonly imageId: string;
  /** The name whose container VM BIOS UUID a foreign VM in the VCH pool already holds. */
  readonly takenName: string;
  /** MOID of that foreign VM. */
  readonly squatterMoid: string;
  readonly squatterUuid: string;
  /** MOID of LocalDS_0 (messages name objects by MOID where vSphere has no better name). */
  readonly datastoreMoid: string;
}

/** `[path, summary, detail]`, exactly as the plan reports them. */
export type Expected = readonly [path: string, summary: string, detail: string];

export interface BadInput {
  /** Also the Terraform resource label or provider alias: snake_case. */
  readonly name: string;
  readonly resource: ResourceType;
  readonly config: (fx: Fixtures) => Attrs;
  /** Provider configuration laid over a working one (the row then plans `config` through it). */
  readonly provider?: Attrs;
  /** Plan as an update of the fixture VCH rather than a create. */
  readonly updatesFixtureVch?: boolean;
  readonly expected: (fx: Fixtures) => readonly Expected[];
  /** Also run through the real terraform CLI. */
  readonly terraform?: boolean;
}

export const COMPUTE = '/DC0/host/DC0_C0';
export const FIXTURE_VCH = { name: 'vch-fx', compute: COMPUTE, datastore: 'LocalDS_0', bridge_network: 'VM Network' };
const vch: Attrs = { name: 'vch-bad', compute: COMPUTE, datastore: 'LocalDS_0' };
const cvm = (fx: Fixtures): Attrs => ({ vch_id: fx.vchId, image_id: fx.imageId, name: 'web-bad' });
const img = (fx: Fixtures): Attrs => ({ vch_id: fx.vchId, reference: '127.0.0.1:5000/library/busybox:1.36' });
const absent = `sha256:${'0'.repeat(64)}`;
const invalid = (path: string) => `Invalid value for "${path}"`;
const resolve = (path: string) => `Cannot resolve "${path}"`;
const VCH_ARGS =
  'name, datacenter, compute, datastore, image_store_path, bridge_network, cpu_limit_mhz, cpu_reservation_mhz, cpu_shares, memory_limit_mb, memory_reservation_mb, memory_shares, bootstrap_iso, force_destroy';
const USER_RULE = 'Write it as name, uid, name:group or uid:gid (ids up to 4294967294), e.g. "nobody" or "1000:1000".';
const SERVER_TODO = 'Use a host name such as "vcenter.example.com", host:port, or a URL such as "https://vcenter.example.com/sdk".';
const THUMB_TODO = 'Use the 32-byte SHA-256 thumbprint of the server certificate, e.g. from "openssl x509 -noout -fingerprint -sha256".';

function row(
  name: string,
  resource: ResourceType,
  config: (fx: Fixtures) => Attrs,
  expected: (fx: Fixtures) => readonly Expected[],
  more: Partial<BadInput> = {},
): BadInput {
  // Each VCH row gets its own name: one configuration holds them all, and two VCHs of one name in
  // one compute are refused as duplicates (they would share one resource pool).
  const own = (fx: Fixtures): Attrs => {
    const c = config(fx);
    return resource === 'virtual_container_host' && c.name === vch.name ? { ...c, name: `${String(vch.name)}-${name.replace(/_/g, '-')}` } : c;
  };
  return { name, resource, config: own, expected, ...more };
}
const one = (path: string, summary: string, detail: string) => (): readonly Expected[] => [[path, summary, detail]];
const tf = { terraform: true };

export const badInputs: readonly BadInput[] = [
  // virtual_container_host: names and references
  row(
    'vch_name_blank',
    'virtual_container_host',
    () => ({ ...vch, name: ' ' }),
    one('name', invalid('name'), 'name = " " is empty. Give the virtual container host a name.'),
    tf,
  ),
  row(
    'vch_name_slash',
    'virtual_container_host',
    () => ({ ...vch, name: 'a/b' }),
    one('name', invalid('name'), 'name = "a/b" contains "/", "\\" or "%", which vSphere escapes in inventory paths. Use letters, digits, "-", "_" and ".".'),
    tf,
  ),
  row(
    'vch_name_percent',
    'virtual_container_host',
    () => ({ ...vch, name: '100%' }),
    one('name', invalid('name'), 'name = "100%" contains "/", "\\" or "%", which vSphere escapes in inventory paths. Use letters, digits, "-", "_" and ".".'),
  ),
  row(
    'vch_name_too_long',
    'virtual_container_host',
    () => ({ ...vch, name: 'v'.repeat(81) }),
    one('name', invalid('name'), `name = "${'v'.repeat(81)}" is 81 characters long; vSphere allows at most 80. Use a shorter name.`),
  ),
  row(
    'vch_name_missing',
    'virtual_container_host',
    () => ({ compute: COMPUTE, datastore: 'LocalDS_0' }),
    one(
      'name',
      'Missing required argument "name"',
      'The argument "name" is required: Name of the VCH: the resource pool, the VM folder and (by default) the image store directory.',
    ),
  ),
  row(
    'vch_compute_empty',
    'virtual_container_host',
    () => ({ ...vch, compute: '' }),
    one(
      'compute',
      invalid('compute'),
      'compute = "" is empty. Use the inventory path or MOID of a cluster, a host or a resource pool, e.g. "/DC0/host/DC0_C0".',
    ),
    tf,
  ),
  row(
    'vch_datastore_empty',
    'virtual_container_host',
    () => ({ ...vch, datastore: '' }),
    one('datastore', invalid('datastore'), 'datastore = "" is empty. Use the name or MOID of a datastore, e.g. "LocalDS_0".'),
  ),
  row(
    'vch_datacenter_empty',
    'virtual_container_host',
    () => ({ ...vch, datacenter: '' }),
    one(
      'datacenter',
      invalid('datacenter'),
      'datacenter = "" is empty. Use a datacenter name, inventory path or MOID, or leave datacenter out when vSphere has only one.',
    ),
  ),
  row(
    'vch_bridge_empty',
    'virtual_container_host',
    () => ({ ...vch, bridge_network: '' }),
    one('bridge_network', invalid('bridge_network'), 'bridge_network = "" is empty. Use a portgroup name or MOID, or leave bridge_network out.'),
    tf,
  ),
  row(
    'vch_iso_not_a_path',
    'virtual_container_host',
    () => ({ ...vch, bootstrap_iso: 'isos/boot.iso' }),
    one('bootstrap_iso', invalid('bootstrap_iso'), 'bootstrap_iso = "isos/boot.iso" is not a datastore path. Write it as "[datastore] folder/file.iso".'),
    tf,
  ),
  row(
    'vch_computed_set',
    'virtual_container_host',
    () => ({ ...vch, folder_id: 'group-v1' }),
    one('folder_id', 'Value for unconfigurable attribute "folder_id"', 'folder_id is computed by vSphere and cannot be set. Remove it from the configuration.'),
  ),
  row(
    'vch_typo',
    'virtual_container_host',
    () => ({ ...vch, datastor: 'LocalDS_0' }),
    one(
      'datastor',
      'Unsupported argument "datastor"',
      `An argument named "datastor" is not expected here. Did you mean "datastore"? Known arguments: ${VCH_ARGS}.`,
    ),
  ),
  row(
    'vch_force_destroy_word',
    'virtual_container_host',
    () => ({ ...vch, force_destroy: 'yes' }),
    one('force_destroy', 'Incorrect type for "force_destroy"', 'force_destroy must be bool, got string "yes". Write true or false.'),
  ),
  // virtual_container_host: numbers
  row(
    'vch_cpu_limit_negative',
    'virtual_container_host',
    () => ({ ...vch, cpu_limit_mhz: -5 }),
    one('cpu_limit_mhz', invalid('cpu_limit_mhz'), 'cpu_limit_mhz = -5 is not a valid limit. Use a whole number of MHz (0 or more), or -1 for unlimited.'),
    tf,
  ),
  row(
    'vch_memory_limit_fraction',
    'virtual_container_host',
    () => ({ ...vch, memory_limit_mb: 1.5 }),
    one(
      'memory_limit_mb',
      invalid('memory_limit_mb'),
      'memory_limit_mb = 1.5 is not a valid limit. Use a whole number of MB (0 or more), or -1 for unlimited.',
    ),
  ),
  row(
    'vch_memory_limit_text',
    'virtual_container_host',
    () => ({ ...vch, memory_limit_mb: 'lots' }),
    one('memory_limit_mb', 'Incorrect type for "memory_limit_mb"', 'memory_limit_mb must be number, got string "lots". Write a number, such as 1024.'),
  ),
  row(
    'vch_cpu_reservation_negative',
    'virtual_container_host',
    () => ({ ...vch, cpu_reservation_mhz: -1 }),
    one('cpu_reservation_mhz', invalid('cpu_reservation_mhz'), 'cpu_reservation_mhz = -1 is below the minimum of 0 MHz. Use a value of at least 0.'),
    tf,
  ),
  row(
    'vch_memory_reservation_fraction',
    'virtual_container_host',
    () => ({ ...vch, memory_reservation_mb: 10.5 }),
    one('memory_reservation_mb', invalid('memory_reservation_mb'), 'memory_reservation_mb = 10.5 is not a whole number. Use an integer.'),
  ),
  row(
    'vch_cpu_shares_word',
    'virtual_container_host',
    () => ({ ...vch, cpu_shares: 'lots' }),
    one(
      'cpu_shares',
      invalid('cpu_shares'),
      'cpu_shares = "lots" is not a shares value. Use "low", "normal", "high" or a positive whole number such as "2000".',
    ),
    tf,
  ),
  row(
    'vch_memory_shares_zero',
    'virtual_container_host',
    () => ({ ...vch, memory_shares: '0' }),
    one(
      'memory_shares',
      invalid('memory_shares'),
      'memory_shares = "0" is not a shares value. Use "low", "normal", "high" or a positive whole number such as "2000".',
    ),
  ),
  row(
    'vch_cpu_reservation_above_limit',
    'virtual_container_host',
    () => ({ ...vch, cpu_limit_mhz: 1000, cpu_reservation_mhz: 2000 }),
    one(
      'cpu_reservation_mhz',
      invalid('cpu_reservation_mhz'),
      'cpu_reservation_mhz = 2000 is above cpu_limit_mhz = 1000 MHz; vSphere needs a reservation within its limit. Lower the reservation to at most 1000, raise cpu_limit_mhz, or set cpu_limit_mhz = -1 (unlimited).',
    ),
    tf,
  ),
  row(
    'vch_memory_reservation_above_limit',
    'virtual_container_host',
    () => ({ ...vch, memory_limit_mb: 2048, memory_reservation_mb: 4096 }),
    one(
      'memory_reservation_mb',
      invalid('memory_reservation_mb'),
      'memory_reservation_mb = 4096 is above memory_limit_mb = 2048 MB; vSphere needs a reservation within its limit. Lower the reservation to at most 2048, raise memory_limit_mb, or set memory_limit_mb = -1 (unlimited).',
    ),
    tf,
  ),
  // virtual_container_host: what only vSphere knows
  row(
    'vch_compute_missing',
    'virtual_container_host',
    () => ({ ...vch, compute: '/DC0/host/NOPE' }),
    one(
      'compute',
      resolve('compute'),
      'no cluster, host or resource pool "/DC0/host/NOPE" in datacenter "DC0" (clusters: DC0_C0; hosts: DC0_C0_H0, DC0_C0_H1, DC0_C0_H2, DC0_H0). Name a cluster or a host (its name, its inventory path such as /DC0/host/<cluster>, or its MOID), or a resource pool by its inventory path or MOID. Check compute = "/DC0/host/NOPE".',
    ),
    tf,
  ),
  row(
    'vch_compute_is_a_datastore',
    'virtual_container_host',
    () => ({ ...vch, compute: '/DC0/datastore/LocalDS_0' }),
    (fx) => [
      [
        'compute',
        resolve('compute'),
        `resource pool path "/DC0/datastore/LocalDS_0" leads to a Datastore (${fx.datastoreMoid}), not a resource pool. Check compute = "/DC0/datastore/LocalDS_0".`,
      ],
    ],
  ),
  row(
    'vch_datastore_missing',
    'virtual_container_host',
    () => ({ ...vch, datastore: 'LocalDS_9' }),
    one('datastore', resolve('datastore'), 'datastore "LocalDS_9" not found in datacenter "DC0" (known: LocalDS_0). Check datastore = "LocalDS_9".'),
    tf,
  ),
  row(
    'vch_datacenter_missing',
    'virtual_container_host',
    () => ({ ...vch, datacenter: 'DC9' }),
    one('datacenter', resolve('datacenter'), 'datacenter "DC9" not found (known: DC0). Check datacenter = "DC9".'),
    tf,
  ),
  row(
    'vch_portgroup_missing',
    'virtual_container_host',
    () => ({ ...vch, bridge_network: 'No Such PG' }),
    one(
      'bridge_network',
      resolve('bridge_network'),
      'network "No Such PG" not found in datacenter "DC0" (known: DC0_DVPG0, DVS0-DVUplinks-8, VM Network). Check bridge_network = "No Such PG".',
    ),
    tf,
  ),
  row(
    'vch_iso_missing',
    'virtual_container_host',
    () => ({ ...vch, bootstrap_iso: '[LocalDS_0] isos/missing.iso' }),
    one(
      'bootstrap_iso',
      resolve('bootstrap_iso'),
      'bootstrap_iso = "[LocalDS_0] isos/missing.iso": there is no file "isos/missing.iso" on datastore "LocalDS_0" in datacenter "DC0". Upload the ISO there first, or leave bootstrap_iso out to have vic-iac upload its own.',
    ),
    tf,
  ),
  row(
    'vch_iso_datastore_missing',
    'virtual_container_host',
    () => ({ ...vch, bootstrap_iso: '[NoDS] isos/bootstrap.iso' }),
    one(
      'bootstrap_iso',
      resolve('bootstrap_iso'),
      'datastore "NoDS" not found in datacenter "DC0" (known: LocalDS_0). Check bootstrap_iso = "[NoDS] isos/bootstrap.iso".',
    ),
    tf,
  ),
  row(
    'vch_cpu_reservation_above_capacity',
    'virtual_container_host',
    () => ({ ...vch, cpu_reservation_mhz: 100000 }),
    one(
      'cpu_reservation_mhz',
      'Not enough capacity for "cpu_reservation_mhz"',
      'cpu_reservation_mhz = 100000 is more than the 4121 MHz that compute "/DC0/host/DC0_C0" has left to reserve. Use at most 4121, or release reservations elsewhere in that cluster or pool.',
    ),
    tf,
  ),
  row(
    'vch_memory_reservation_above_capacity',
    'virtual_container_host',
    () => ({ ...vch, memory_reservation_mb: 65536 }),
    one(
      'memory_reservation_mb',
      'Not enough capacity for "memory_reservation_mb"',
      'memory_reservation_mb = 65536 is more than the 961 MB that compute "/DC0/host/DC0_C0" has left to reserve. Use at most 961, or release reservations elsewhere in that cluster or pool.',
    ),
    tf,
  ),
  row(
    'vch_update_reservation_above_capacity',
    'virtual_container_host',
    () => ({ ...FIXTURE_VCH, memory_reservation_mb: 5000 }),
    one(
      'memory_reservation_mb',
      'Not enough capacity for "memory_reservation_mb"',
      'memory_reservation_mb = 5000 raises the reservation by 5000 MB, more than the 961 MB that compute "/DC0/host/DC0_C0" has left to reserve. Use at most 961, or release reservations elsewhere in that cluster or pool.',
    ),
    { updatesFixtureVch: true },
  ),
  row(
    'vch_update_iso_missing',
    'virtual_container_host',
    () => ({ ...FIXTURE_VCH, bootstrap_iso: '[LocalDS_0] vch-fx/other.iso' }),
    one(
      'bootstrap_iso',
      resolve('bootstrap_iso'),
      'bootstrap_iso = "[LocalDS_0] vch-fx/other.iso": there is no file "vch-fx/other.iso" on datastore "LocalDS_0" in datacenter "DC0". Upload the ISO there first, or leave bootstrap_iso out to have vic-iac upload its own.',
    ),
    { updatesFixtureVch: true },
  ),
  row(
    'vch_three_missing_objects',
    'virtual_container_host',
    () => ({ ...vch, compute: '/DC0/host/NOPE', datastore: 'LocalDS_9', bridge_network: 'Nope' }),
    () => [
      [
        'compute',
        resolve('compute'),
        'no cluster, host or resource pool "/DC0/host/NOPE" in datacenter "DC0" (clusters: DC0_C0; hosts: DC0_C0_H0, DC0_C0_H1, DC0_C0_H2, DC0_H0). Name a cluster or a host (its name, its inventory path such as /DC0/host/<cluster>, or its MOID), or a resource pool by its inventory path or MOID. Check compute = "/DC0/host/NOPE".',
      ],
      ['datastore', resolve('datastore'), 'datastore "LocalDS_9" not found in datacenter "DC0" (known: LocalDS_0). Check datastore = "LocalDS_9".'],
      [
        'bridge_network',
        resolve('bridge_network'),
        'network "Nope" not found in datacenter "DC0" (known: DC0_DVPG0, DVS0-DVUplinks-8, VM Network). Check bridge_network = "Nope".',
      ],
    ],
  ),

  // image (what needs no registry; the registry's answers are the image check's own table)
  row(
    'image_reference_malformed',
    'image',
    (fx) => ({ ...img(fx), reference: 'Busybox!!' }),
    one(
      'reference',
      invalid('reference'),
      'reference = "Busybox!!" is not an image reference: it has repository "Busybox!!", which must be lower-case path components of [a-z0-9] joined by ".", "_", "__" or "-", separated by "/". Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. "127.0.0.1:5000/library/busybox:1.36".',
    ),
    tf,
  ),
  row(
    'image_reference_empty',
    'image',
    (fx) => ({ ...img(fx), reference: '' }),
    one(
      'reference',
      invalid('reference'),
      'reference = "" is not an image reference: it is empty. Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. "127.0.0.1:5000/library/busybox:1.36".',
    ),
  ),
  row(
    'image_platform_no_os',
    'image',
    (fx) => ({ ...img(fx), platform: 'amd64' }),
    one('platform', invalid('platform'), 'platform = "amd64" is not a platform. Write it as os/architecture[/variant], e.g. "linux/amd64".'),
    tf,
  ),
  row(
    'image_platform_upper_case',
    'image',
    (fx) => ({ ...img(fx), platform: 'Linux/AMD64' }),
    one('platform', invalid('platform'), 'platform = "Linux/AMD64" is not a platform. Write it as os/architecture[/variant], e.g. "linux/amd64".'),
  ),
  row(
    'image_platform_not_amd64',
    'image',
    (fx) => ({ ...img(fx), platform: 'linux/arm64' }),
    one(
      'platform',
      invalid('platform'),
      'platform = "linux/arm64" cannot run in a container VM, which boots an x86-64 Linux kernel. Use "linux/amd64" (the default: remove the attribute), and an image that has a linux/amd64 build.',
    ),
    tf,
  ),
  row(
    'image_size_too_small',
    'image',
    (fx) => ({ ...img(fx), size_mb: 1 }),
    one('size_mb', invalid('size_mb'), 'size_mb = 1 is below the minimum of 16 MB. Use a value of at least 16.'),
    tf,
  ),
  row(
    'image_size_too_large',
    'image',
    (fx) => ({ ...img(fx), size_mb: 3000000 }),
    one('size_mb', invalid('size_mb'), 'size_mb = 3000000 is above the maximum of 2097152 MB. Use a value of at most 2097152.'),
  ),
  row(
    'image_auth_without_password',
    'image',
    (fx) => ({ ...img(fx), registry_auth: { username: 'u' } }),
    one(
      'registry_auth.password',
      'Missing required argument "registry_auth.password"',
      'The argument "registry_auth.password" is required: Registry password or token. Sensitive.',
    ),
  ),
  row(
    'image_auth_without_username',
    'image',
    (fx) => ({ ...img(fx), registry_auth: { password: 's3cret' } }),
    one(
      'registry_auth.username',
      'Missing required argument "registry_auth.username"',
      'The argument "registry_auth.username" is required: Registry user name.',
    ),
  ),
  row(
    'image_vch_id_empty',
    'image',
    (fx) => ({ ...img(fx), vch_id: '' }),
    one('vch_id', invalid('vch_id'), 'vch_id = "" is empty. Use the id of a vic_virtual_container_host.'),
  ),
  row(
    'image_digest_set',
    'image',
    (fx) => ({ ...img(fx), digest: absent }),
    one('digest', 'Value for unconfigurable attribute "digest"', 'digest is computed by vSphere and cannot be set. Remove it from the configuration.'),
  ),
  row(
    'image_insecure_word',
    'image',
    (fx) => ({ ...img(fx), insecure_registry: 'maybe' }),
    one('insecure_registry', 'Incorrect type for "insecure_registry"', 'insecure_registry must be bool, got string "maybe". Write true or false.'),
  ),

  // container_vm: names, references, numbers
  row(
    'cvm_name_slash',
    'container_vm',
    (fx) => ({ ...cvm(fx), name: 'web/1' }),
    one('name', invalid('name'), 'name = "web/1" contains "/", "\\" or "%", which vSphere escapes in inventory paths. Use letters, digits, "-", "_" and ".".'),
    tf,
  ),
  row('cvm_name_empty', 'container_vm', (fx) => ({ ...cvm(fx), name: '' }), one('name', invalid('name'), 'name = "" is empty. Give the container VM a name.')),
  row(
    'cvm_image_not_a_digest',
    'container_vm',
    (fx) => ({ ...cvm(fx), image_id: 'busybox:latest' }),
    one(
      'image_id',
      invalid('image_id'),
      'image_id = "busybox:latest" is not an image digest. Use the id of a vic_image resource (sha256: followed by 64 lowercase hex digits).',
    ),
    tf,
  ),
  row(
    'cvm_image_upper_case_digest',
    'container_vm',
    (fx) => ({ ...cvm(fx), image_id: `sha256:${'A'.repeat(64)}` }),
    one(
      'image_id',
      invalid('image_id'),
      `image_id = "sha256:${'A'.repeat(64)}" is not an image digest. Use the id of a vic_image resource (sha256: followed by 64 lowercase hex digits).`,
    ),
  ),
  row(
    'cvm_vch_id_empty',
    'container_vm',
    (fx) => ({ ...cvm(fx), vch_id: '' }),
    one('vch_id', invalid('vch_id'), 'vch_id = "" is empty. Use the id of a vic_virtual_container_host.'),
  ),
  row(
    'cvm_cpus_zero',
    'container_vm',
    (fx) => ({ ...cvm(fx), cpus: 0 }),
    one('cpus', invalid('cpus'), 'cpus = 0 is below the minimum of 1. Use a value of at least 1.'),
    tf,
  ),
  row(
    'cvm_cpus_too_many',
    'container_vm',
    (fx) => ({ ...cvm(fx), cpus: 129 }),
    one('cpus', invalid('cpus'), 'cpus = 129 is above the maximum of 128. Use a value of at most 128.'),
  ),
  // container_vm.volumes and volume: mount paths, sizes, volumes of another VCH
  row(
    'cvm_volume_path_relative',
    'container_vm',
    (fx) => ({ ...cvm(fx), volumes: [{ volume_id: '[LocalDS_0] vch-fx/volumes/d/d.vmdk', path: 'data' }] }),
    one(
      'volumes[0].path',
      invalid('volumes[0].path'),
      'volumes[0].path = "data" is not an absolute path. Use a path inside the container that starts with "/", e.g. "/data".',
    ),
  ),
  row(
    'cvm_volume_path_root',
    'container_vm',
    (fx) => ({ ...cvm(fx), volumes: [{ volume_id: '[LocalDS_0] vch-fx/volumes/d/d.vmdk', path: '/' }] }),
    one(
      'volumes[0].path',
      invalid('volumes[0].path'),
      'volumes[0].path = "/" is the root of the container, which holds the image. Mount the volume on a directory such as "/data".',
    ),
  ),
  row(
    'cvm_volume_paths_duplicate',
    'container_vm',
    (fx) => ({
      ...cvm(fx),
      volumes: [
        { volume_id: '[LocalDS_0] vch-fx/volumes/d/d.vmdk', path: '/data' },
        { volume_id: '[LocalDS_0] vch-fx/volumes/e/e.vmdk', path: '/data/' },
      ],
    }),
    one(
      'volumes[1].path',
      invalid('volumes[1].path'),
      'volumes[1].path = "/data/" mounts the same path as volumes[0].path. Give each volume its own mount path, or remove one of the two.',
    ),
  ),
  row(
    'cvm_volume_of_another_vch',
    'container_vm',
    (fx) => ({ ...cvm(fx), volumes: [{ volume_id: '[LocalDS_0] vch-other/volumes/d/d.vmdk', path: '/data' }] }),
    (fx) => [
      [
        'volumes[0].volume_id',
        'Volume of another VCH',
        `volumes[0].volume_id = "[LocalDS_0] vch-other/volumes/d/d.vmdk" is a volume of the store vch-other, not of this container VM's virtual container host "vch-fx" (${fx.vchId}, store vch-fx). A container VM mounts only volumes of its own VCH: create the volume with vch_id = "${fx.vchId}".`,
      ],
    ],
  ),
  row(
    'volume_size_zero',
    'volume',
    (fx) => ({ vch_id: fx.vchId, name: 'data', size_mb: 0 }),
    one('size_mb', invalid('size_mb'), 'size_mb = 0 is below the minimum of 16 MB. Use a value of at least 16.'),
    tf,
  ),
  row(
    'volume_size_fraction',
    'volume',
    (fx) => ({ vch_id: fx.vchId, name: 'data', size_mb: 64.5 }),
    one('size_mb', invalid('size_mb'), 'size_mb = 64.5 is not a whole number. Use an integer.'),
  ),
  row(
    'volume_size_too_large',
    'volume',
    (fx) => ({ vch_id: fx.vchId, name: 'data', size_mb: 4194304 }),
    one('size_mb', invalid('size_mb'), 'size_mb = 4194304 is above the maximum of 2097152 MB. Use a value of at most 2097152.'),
  ),
  row(
    'volume_label_key_empty',
    'volume',
    (fx) => ({ vch_id: fx.vchId, name: 'data', labels: { '': 'x' } }),
    one('labels[""]', 'Invalid key in "labels"', 'labels[""] = "x" has an empty key. Give the label a key such as "com.example.tier", or remove it.'),
  ),
  row(
    'volume_vch_missing',
    'volume',
    () => ({ vch_id: 'resgroup-999999', name: 'data' }),
    one(
      'vch_id',
      'Virtual container host not found',
      'virtual container host resgroup-999999 not found (or not managed by vic-iac); use the id of a vic_virtual_container_host.',
    ),
  ),
  row(
    'volume_name_slash',
    'volume',
    (fx) => ({ vch_id: fx.vchId, name: 'a/b' }),
    one(
      'name',
      invalid('name'),
      'name = "a/b" includes invalid characters for a volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (1 to 64 of them). Use a name such as "data" or "db-1".',
    ),
  ),
  row(
    'cvm_cpus_fraction',
    'container_vm',
    (fx) => ({ ...cvm(fx), cpus: 1.5 }),
    one('cpus', invalid('cpus'), 'cpus = 1.5 is not a whole number. Use an integer.'),
  ),
  row(
    'cvm_memory_not_multiple_of_4',
    'container_vm',
    (fx) => ({ ...cvm(fx), memory_mb: 1023 }),
    one('memory_mb', invalid('memory_mb'), 'memory_mb = 1023 is not a multiple of 4 MB. vSphere requires multiples of 4; use 1024.'),
    tf,
  ),
  row(
    'cvm_memory_too_small',
    'container_vm',
    (fx) => ({ ...cvm(fx), memory_mb: 2 }),
    one(
      'memory_mb',
      invalid('memory_mb'),
      "memory_mb = 2 is below the minimum of 128 MB (the bootstrap ISO's kernel and initramfs need it to boot). Use a value of at least 128.",
    ),
  ),
  row(
    'cvm_memory_too_small_to_boot',
    'container_vm',
    (fx) => ({ ...cvm(fx), memory_mb: 64 }),
    one(
      'memory_mb',
      invalid('memory_mb'),
      "memory_mb = 64 is below the minimum of 128 MB (the bootstrap ISO's kernel and initramfs need it to boot). Use a value of at least 128.",
    ),
    tf,
  ),
  row(
    'cvm_memory_as_text',
    'container_vm',
    (fx) => ({ ...cvm(fx), memory_mb: '1G' }),
    one('memory_mb', 'Incorrect type for "memory_mb"', 'memory_mb must be number, got string "1G". Write a number, such as 1024.'),
  ),
  row(
    'cvm_disk_too_small',
    'container_vm',
    (fx) => ({ ...cvm(fx), disk_size_mb: 8 }),
    one('disk_size_mb', invalid('disk_size_mb'), 'disk_size_mb = 8 is below the minimum of 16 MB. Use a value of at least 16.'),
  ),
  row(
    'cvm_power_state_word',
    'container_vm',
    (fx) => ({ ...cvm(fx), power_state: 'on' }),
    one('power_state', invalid('power_state'), 'power_state = "on" is not allowed; allowed values are "running", "stopped". Use one of them.'),
    tf,
  ),
  row(
    'cvm_hostname_dash',
    'container_vm',
    (fx) => ({ ...cvm(fx), hostname: '-web' }),
    one(
      'hostname',
      invalid('hostname'),
      'hostname = "-web" is not a valid hostname. Use DNS labels of 1-63 letters, digits and "-" (not starting or ending with "-") joined by ".", at most 64 characters in all, e.g. "web" or "web.example".',
    ),
  ),
  row(
    'cvm_hostname_too_long',
    'container_vm',
    (fx) => ({ ...cvm(fx), hostname: 'h'.repeat(64) }),
    one(
      'hostname',
      invalid('hostname'),
      `hostname = "${'h'.repeat(64)}" is not a valid hostname. Use DNS labels of 1-63 letters, digits and "-" (not starting or ending with "-") joined by ".", at most 64 characters in all, e.g. "web" or "web.example".`,
    ),
  ),
  row(
    'cvm_moid_set',
    'container_vm',
    (fx) => ({ ...cvm(fx), moid: 'vm-1' }),
    one('moid', 'Value for unconfigurable attribute "moid"', 'moid is computed by vSphere and cannot be set. Remove it from the configuration.'),
  ),
  // container_vm: env, labels, user, working_dir, entrypoint, command, networks
  row(
    'cvm_env_key_digit',
    'container_vm',
    (fx) => ({ ...cvm(fx), env: { '1BAD': 'x' } }),
    one(
      'env.1BAD',
      invalid('env.1BAD'),
      'env.1BAD = "1BAD" is not a valid environment variable name. Use letters, digits, "_", "." and "-", not starting with a digit.',
    ),
    tf,
  ),
  row(
    'cvm_env_key_equals',
    'container_vm',
    (fx) => ({ ...cvm(fx), env: { 'A=B': 'x' } }),
    one(
      'env.A=B',
      invalid('env.A=B'),
      'env.A=B = "A=B" is not a valid environment variable name. Use letters, digits, "_", "." and "-", not starting with a digit.',
    ),
  ),
  row(
    'cvm_env_key_space',
    'container_vm',
    (fx) => ({ ...cvm(fx), env: { 'MY VAR': 'x' } }),
    one(
      'env["MY VAR"]',
      invalid('env["MY VAR"]'),
      'env["MY VAR"] = "MY VAR" is not a valid environment variable name. Use letters, digits, "_", "." and "-", not starting with a digit.',
    ),
  ),
  row(
    'cvm_label_key_empty',
    'container_vm',
    (fx) => ({ ...cvm(fx), labels: { '': 'web' } }),
    one('labels[""]', 'Invalid key in "labels"', 'labels[""] = "web" has an empty key. Give the label a key such as "com.example.tier", or remove it.'),
    tf,
  ),
  row(
    'cvm_label_key_blank',
    'container_vm',
    (fx) => ({ ...cvm(fx), labels: { tier: 'web', ' ': 'x' } }),
    one('labels[" "]', 'Invalid key in "labels"', 'labels[" "] = "x" has an empty key. Give the label a key such as "com.example.tier", or remove it.'),
  ),
  row(
    'cvm_labels_list',
    'container_vm',
    (fx) => ({ ...cvm(fx), labels: ['tier=web'] }),
    one('labels', 'Incorrect type for "labels"', 'labels must be map(string), got a list. Write a map of keys to values.'),
  ),
  row(
    'cvm_user_trailing_colon',
    'container_vm',
    (fx) => ({ ...cvm(fx), user: 'root:' }),
    one('user', invalid('user'), `user = "root:" is not a user. ${USER_RULE}`),
    tf,
  ),
  row(
    'cvm_user_three_parts',
    'container_vm',
    (fx) => ({ ...cvm(fx), user: '1:2:3' }),
    one('user', invalid('user'), `user = "1:2:3" is not a user. ${USER_RULE}`),
  ),
  row(
    'cvm_user_uid_too_large',
    'container_vm',
    (fx) => ({ ...cvm(fx), user: '99999999999' }),
    one('user', invalid('user'), `user = "99999999999" is not a user. ${USER_RULE}`),
  ),
  row(
    'cvm_user_space',
    'container_vm',
    (fx) => ({ ...cvm(fx), user: 'web user' }),
    one('user', invalid('user'), `user = "web user" is not a user. ${USER_RULE}`),
  ),
  row(
    'cvm_working_dir_relative',
    'container_vm',
    (fx) => ({ ...cvm(fx), working_dir: 'srv/app' }),
    one(
      'working_dir',
      invalid('working_dir'),
      'working_dir = "srv/app" is not an absolute path. Use a path inside the container that starts with "/", e.g. "/srv/app".',
    ),
    tf,
  ),
  row(
    'cvm_working_dir_dot',
    'container_vm',
    (fx) => ({ ...cvm(fx), working_dir: './app' }),
    one(
      'working_dir',
      invalid('working_dir'),
      'working_dir = "./app" is not an absolute path. Use a path inside the container that starts with "/", e.g. "/app".',
    ),
  ),
  row(
    'cvm_entrypoint_empty_element',
    'container_vm',
    (fx) => ({ ...cvm(fx), entrypoint: ['/bin/app', ''] }),
    one(
      'entrypoint[1]',
      invalid('entrypoint[1]'),
      'entrypoint[1] = "" is empty; entrypoint elements are the program and its fixed arguments. Remove the empty element, or pass an empty argument through command.',
    ),
    tf,
  ),
  row(
    'cvm_entrypoint_empty_program',
    'container_vm',
    (fx) => ({ ...cvm(fx), entrypoint: [' '], command: ['-v'] }),
    one(
      'entrypoint[0]',
      invalid('entrypoint[0]'),
      'entrypoint[0] = " " is empty; entrypoint elements are the program and its fixed arguments. Remove the empty element, or pass an empty argument through command.',
    ),
  ),
  row(
    'cvm_entrypoint_cleared_no_command',
    'container_vm',
    (fx) => ({ ...cvm(fx), entrypoint: [] }),
    one(
      'entrypoint',
      invalid('entrypoint'),
      "entrypoint = [] clears the image entrypoint and command is empty, so the container has nothing to run. Set command to the program to run, or leave entrypoint out to keep the image's.",
    ),
    tf,
  ),
  row(
    'cvm_command_string',
    'container_vm',
    (fx) => ({ ...cvm(fx), command: 'echo hi' }),
    one('command', 'Incorrect type for "command"', 'command must be list(string), got string "echo hi". Write a list of values, such as ["a", "b"].'),
  ),
  row(
    'cvm_network_empty_element',
    'container_vm',
    (fx) => ({ ...cvm(fx), networks: ['VM Network', ''] }),
    one(
      'networks[1]',
      invalid('networks[1]'),
      'networks[1] = "" is empty; each element names the portgroup of one NIC. Use a portgroup name or MOID, or remove the element.',
    ),
    tf,
  ),
  row(
    'cvm_several_problems',
    'container_vm',
    (fx) => ({ ...cvm(fx), cpus: 0, hostname: '-web', working_dir: 'tmp' }),
    () => [
      ['cpus', invalid('cpus'), 'cpus = 0 is below the minimum of 1. Use a value of at least 1.'],
      [
        'hostname',
        invalid('hostname'),
        'hostname = "-web" is not a valid hostname. Use DNS labels of 1-63 letters, digits and "-" (not starting or ending with "-") joined by ".", at most 64 characters in all, e.g. "web" or "web.example".',
      ],
      [
        'working_dir',
        invalid('working_dir'),
        'working_dir = "tmp" is not an absolute path. Use a path inside the container that starts with "/", e.g. "/tmp".',
      ],
    ],
    tf,
  ),
  // container_vm: what only vSphere knows
  row(
    'cvm_vch_missing',
    'container_vm',
    (fx) => ({ ...cvm(fx), vch_id: 'resgroup-99999' }),
    one(
      'vch_id',
      resolve('vch_id'),
      'virtual container host resgroup-99999 not found (or its pool is not managed by vic-iac). Use the id of a vic_virtual_container_host.',
    ),
    tf,
  ),
  row(
    'cvm_portgroup_missing',
    'container_vm',
    (fx) => ({ ...cvm(fx), networks: ['No Such PG'] }),
    one(
      'networks[0]',
      resolve('networks'),
      'network "No Such PG" not found in datacenter "DC0" (known: DC0_DVPG0, DVS0-DVUplinks-8, VM Network). Check networks = "No Such PG".',
    ),
    tf,
  ),
  row(
    'cvm_second_portgroup_missing',
    'container_vm',
    (fx) => ({ ...cvm(fx), networks: ['VM Network', 'DC0_DVPG9'] }),
    one(
      'networks[1]',
      resolve('networks'),
      'network "DC0_DVPG9" not found in datacenter "DC0" (known: DC0_DVPG0, DVS0-DVUplinks-8, VM Network). Check networks = "DC0_DVPG9".',
    ),
  ),
  row(
    'cvm_image_not_in_store',
    'container_vm',
    (fx) => ({ ...cvm(fx), image_id: absent }),
    one(
      'image_id',
      resolve('image_id'),
      `image ${absent} is not in the image store [LocalDS_0] vch-fx of VCH "vch-fx". Create it with a vic_image resource on this VCH first.`,
    ),
    tf,
  ),
  row(
    'cvm_bios_uuid_taken',
    'container_vm',
    (fx) => ({ ...cvm(fx), name: fx.takenName }),
    (fx) => [
      [
        'name',
        'BIOS UUID taken',
        `VM squatter (${fx.squatterMoid}) already has the BIOS UUID ${fx.squatterUuid} that container VM "${fx.takenName}" in VCH ${fx.vchId} needs, and it was not made by vic-iac. Choose another name, or remove that VM.`,
      ],
    ],
  ),

  // provider configuration (planned with a VCH that would otherwise be fine)
  row(
    'provider_server_scheme',
    'virtual_container_host',
    () => vch,
    one('vsphere_server', invalid('vsphere_server'), `vsphere_server = "ftp://vcenter.example.com" is not a vSphere address. ${SERVER_TODO}`),
    { provider: { vsphere_server: 'ftp://vcenter.example.com' }, terraform: true },
  ),
  row(
    'provider_server_no_host',
    'virtual_container_host',
    () => vch,
    one('vsphere_server', invalid('vsphere_server'), `vsphere_server = "https://" is not a vSphere address. ${SERVER_TODO}`),
    { provider: { vsphere_server: 'https://' } },
  ),
  row(
    'provider_server_plain_http',
    'virtual_container_host',
    () => vch,
    one(
      'vsphere_server',
      'Plain HTTP refused for "vsphere_server"',
      'vsphere_server = "http://admin:***@vcenter.example.com/sdk" uses plain HTTP: the password and the session cookie would travel in clear text. Use https://, or, only for a local simulator or a trusted tunnel, set allow_plain_http = true (environment: VSPHERE_ALLOW_PLAIN_HTTP=true).',
    ),
    { provider: { vsphere_server: 'http://admin:Secr3t@vcenter.example.com/sdk' }, terraform: true },
  ),
  row(
    'provider_thumbprint_sha1',
    'virtual_container_host',
    () => vch,
    one(
      'thumbprint',
      invalid('thumbprint'),
      `thumbprint = "${'AB:'.repeat(19)}AB" is not a SHA-256 thumbprint (it looks like a SHA-1 thumbprint, which vic does not pin). ${THUMB_TODO}`,
    ),
    { provider: { thumbprint: `${'AB:'.repeat(19)}AB` }, terraform: true },
  ),
  row(
    'provider_thumbprint_garbage',
    'virtual_container_host',
    () => vch,
    one('thumbprint', invalid('thumbprint'), `thumbprint = "not-a-thumbprint" is not a SHA-256 thumbprint. ${THUMB_TODO}`),
    { provider: { thumbprint: 'not-a-thumbprint' } },
  ),
  row(
    'provider_ca_file_missing',
    'virtual_container_host',
    () => vch,
    one(
      'ca_file',
      'Cannot read "ca_file"',
      'ca_file = "/nonexistent/vic/ca.pem" does not exist. Give the path of a PEM file with the CA certificate that signed the vSphere server certificate, or pin the server with thumbprint instead.',
    ),
    { provider: { ca_file: '/nonexistent/vic/ca.pem' }, terraform: true },
  ),
  row(
    'provider_user_empty',
    'virtual_container_host',
    () => vch,
    one('user', 'Missing vSphere connection setting "user"', 'Set "user" in the provider configuration or the VSPHERE_USER environment variable.'),
    { provider: { user: '' } },
  ),
  row(
    'provider_datacenter_empty',
    'virtual_container_host',
    () => vch,
    one(
      'datacenter',
      invalid('datacenter'),
      'datacenter = "" is empty. Use a datacenter name, inventory path or MOID, or leave datacenter out when vSphere has only one.',
    ),
    { provider: { datacenter: '' } },
  ),
  row(
    'provider_datacenter_missing',
    'virtual_container_host',
    () => vch,
    one(
      'datacenter',
      resolve('datacenter'),
      'datacenter "DC9" not found (known: DC0). It is the provider\'s default datacenter: correct datacenter in the provider configuration (or VSPHERE_DATACENTER), or set datacenter on this resource.',
    ),
    { provider: { datacenter: 'DC9' }, terraform: true },
  ),
  row(
    'provider_insecure_word',
    'virtual_container_host',
    () => vch,
    one(
      'allow_unverified_ssl',
      'Invalid value for "allow_unverified_ssl"',
      'allow_unverified_ssl is "sometimes" (from the setting or the VSPHERE_ALLOW_UNVERIFIED_SSL environment variable), which is not a boolean: write true or false (1 or 0 also work), or unset it. vic-iac refuses it rather than read it as false.',
    ),
    { provider: { allow_unverified_ssl: 'sometimes' } },
  ),
];
