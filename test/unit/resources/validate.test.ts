/**
 * GIVEN a bad input for a resource WHEN it is validated THEN the exact message names the attribute,
 * the value, what is allowed and what to do. Table-driven; every row must produce its message.
 */
import { Attrs, declarationFor, formatPath, validateAttrs } from '../../../src/resources';

const vch: Attrs = { name: 'vch-1', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' };
const cvm: Attrs = { vch_id: 'resgroup-1', image_id: `sha256:${'a'.repeat(64)}`, name: 'web-1' };
const img: Attrs = { vch_id: 'resgroup-1', reference: '127.0.0.1:5000/library/busybox:1.36' };

type Row = [string, 'virtual_container_host' | 'container_vm' | 'image', Attrs, string, string];

const rows: Row[] = [
  [
    'missing name',
    'virtual_container_host',
    { ...vch, name: undefined as never },
    'name',
    'The argument "name" is required: Name of the VCH: the resource pool, the VM folder and (by default) the image store directory.',
  ],
  [
    'name with slash',
    'virtual_container_host',
    { ...vch, name: 'a/b' },
    'name',
    'name = "a/b" contains "/", "\\" or "%", which vSphere escapes in inventory paths. Use letters, digits, "-", "_" and ".".',
  ],
  ['empty name', 'virtual_container_host', { ...vch, name: ' ' }, 'name', 'name = " " is empty. Give the virtual container host a name.'],
  [
    'name too long',
    'virtual_container_host',
    { ...vch, name: 'x'.repeat(81) },
    'name',
    `name = "${'x'.repeat(81)}" is 81 characters long; vSphere allows at most 80. Use a shorter name.`,
  ],
  [
    'cpu shares word',
    'virtual_container_host',
    { ...vch, cpu_shares: 'lots' },
    'cpu_shares',
    'cpu_shares = "lots" is not a shares value. Use "low", "normal", "high" or a positive whole number such as "2000".',
  ],
  [
    'negative limit',
    'virtual_container_host',
    { ...vch, memory_limit_mb: -5 },
    'memory_limit_mb',
    'memory_limit_mb = -5 is not a valid limit. Use a whole number of MB (0 or more), or -1 for unlimited.',
  ],
  [
    'negative reservation',
    'virtual_container_host',
    { ...vch, cpu_reservation_mhz: -1 },
    'cpu_reservation_mhz',
    'cpu_reservation_mhz = -1 is below the minimum of 0 MHz. Use a value of at least 0.',
  ],
  [
    'limit as text',
    'virtual_container_host',
    { ...vch, cpu_limit_mhz: 'many' },
    'cpu_limit_mhz',
    'cpu_limit_mhz must be number, got string "many". Write a number, such as 1024.',
  ],
  [
    'bad iso path',
    'virtual_container_host',
    { ...vch, bootstrap_iso: 'isos/boot.iso' },
    'bootstrap_iso',
    'bootstrap_iso = "isos/boot.iso" is not a datastore path. Write it as "[datastore] folder/file.iso".',
  ],
  [
    'store path escapes',
    'virtual_container_host',
    { ...vch, image_store_path: '../escape' },
    'image_store_path',
    'image_store_path = "../escape" contains "..", which leads out of the directory it names. Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.',
  ],
  [
    'store path climbs midway',
    'virtual_container_host',
    { ...vch, image_store_path: 'a/../../b' },
    'image_store_path',
    'image_store_path = "a/../../b" contains "..", which leads out of the directory it names. Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.',
  ],
  [
    'store path empty',
    'virtual_container_host',
    { ...vch, image_store_path: '' },
    'image_store_path',
    'image_store_path = "" is empty, which would name the datastore root. Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.',
  ],
  [
    'store path absolute',
    'virtual_container_host',
    { ...vch, image_store_path: '/vch' },
    'image_store_path',
    'image_store_path = "/vch" is not relative to the datastore (it starts with "/", "\\" or "[datastore]"). Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.',
  ],
  [
    'store path datastore',
    'virtual_container_host',
    { ...vch, image_store_path: '[LocalDS_0] vch' },
    'image_store_path',
    'image_store_path = "[LocalDS_0] vch" is not relative to the datastore (it starts with "/", "\\" or "[datastore]"). Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.',
  ],
  [
    'store path root',
    'virtual_container_host',
    { ...vch, image_store_path: '.' },
    'image_store_path',
    'image_store_path = "." has an empty, "." or space-padded path segment. Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.',
  ],
  [
    'computed set',
    'virtual_container_host',
    { ...vch, folder_id: 'group-v1' },
    'folder_id',
    'folder_id is computed by vSphere and cannot be set. Remove it from the configuration.',
  ],
  [
    'typo',
    'virtual_container_host',
    { ...vch, datastor: 'x' },
    'datastor',
    'An argument named "datastor" is not expected here. Did you mean "datastore"? Known arguments: name, datacenter, compute, datastore, image_store_path, bridge_network, cpu_limit_mhz, cpu_reservation_mhz, cpu_shares, memory_limit_mb, memory_reservation_mb, memory_shares, bootstrap_iso, force_destroy.',
  ],
  [
    'memory not multiple of 4',
    'container_vm',
    { ...cvm, memory_mb: 1023 },
    'memory_mb',
    'memory_mb = 1023 is not a multiple of 4 MB. vSphere requires multiples of 4; use 1024.',
  ],
  ['memory fractional', 'container_vm', { ...cvm, memory_mb: 512.5 }, 'memory_mb', 'memory_mb = 512.5 is not a whole number. Use an integer.'],
  ['zero cpus', 'container_vm', { ...cvm, cpus: 0 }, 'cpus', 'cpus = 0 is below the minimum of 1. Use a value of at least 1.'],
  ['too many cpus', 'container_vm', { ...cvm, cpus: 129 }, 'cpus', 'cpus = 129 is above the maximum of 128. Use a value of at most 128.'],
  [
    'power state',
    'container_vm',
    { ...cvm, power_state: 'on' },
    'power_state',
    'power_state = "on" is not allowed; allowed values are "running", "stopped". Use one of them.',
  ],
  [
    'image id not digest',
    'container_vm',
    { ...cvm, image_id: 'busybox:latest' },
    'image_id',
    'image_id = "busybox:latest" is not an image digest. Use the id of a vic_image resource (sha256: followed by 64 lowercase hex digits).',
  ],
  [
    'hostname',
    'container_vm',
    { ...cvm, hostname: '-web' },
    'hostname',
    'hostname = "-web" is not a valid hostname. Use DNS labels of 1-63 letters, digits and "-" (not starting or ending with "-") joined by ".", at most 64 characters in all, e.g. "web" or "web.example".',
  ],
  [
    'env name',
    'container_vm',
    { ...cvm, env: { '1BAD': 'x' } },
    'env.1BAD',
    'env.1BAD = "1BAD" is not a valid environment variable name. Use letters, digits, "_", "." and "-", not starting with a digit.',
  ],
  [
    'volume id not a path',
    'container_vm',
    { ...cvm, volumes: [{ volume_id: 'not-a-path', path: '/data' }] },
    'volumes[0].volume_id',
    'volumes[0].volume_id = "not-a-path" is not a datastore path. Use the id of a vic_volume of the same VCH: the datastore path of its disk, "[datastore] <image store>/volumes/<name>/<name>.vmdk".',
  ],
  [
    'command not list',
    'container_vm',
    { ...cvm, command: 'echo hi' },
    'command',
    'command must be list(string), got string "echo hi". Write a list of values, such as ["a", "b"].',
  ],
  ['command element', 'container_vm', { ...cvm, command: ['echo', ['x']] }, 'command[1]', 'command[1] must be string, got a list. Write it as text.'],
  ['labels not map', 'container_vm', { ...cvm, labels: ['a'] }, 'labels', 'labels must be map(string), got a list. Write a map of keys to values.'],
  ['empty vch id', 'container_vm', { ...cvm, vch_id: '' }, 'vch_id', 'vch_id = "" is empty. Use the id of a vic_virtual_container_host.'],
  [
    'disk too small',
    'container_vm',
    { ...cvm, disk_size_mb: 8 },
    'disk_size_mb',
    'disk_size_mb = 8 is below the minimum of 16 MB. Use a value of at least 16.',
  ],
  [
    'start_wait negative',
    'container_vm',
    { ...cvm, start_wait: -1 },
    'start_wait',
    'start_wait = -1 is below the minimum of 0 seconds. Use a value of at least 0.',
  ],
  [
    'start_wait too long',
    'container_vm',
    { ...cvm, start_wait: 7200 },
    'start_wait',
    'start_wait = 7200 is above the maximum of 3600 seconds. Use a value of at most 3600.',
  ],
  [
    'bad reference',
    'image',
    { ...img, reference: 'Busybox!!' },
    'reference',
    'reference = "Busybox!!" is not an image reference: it has repository "Busybox!!", which must be lower-case path components of [a-z0-9] joined by ".", "_", "__" or "-", separated by "/". Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. "127.0.0.1:5000/library/busybox:1.36".',
  ],
  [
    'bad platform',
    'image',
    { ...img, platform: 'amd64' },
    'platform',
    'platform = "amd64" is not a platform. Write it as os/architecture[/variant], e.g. "linux/amd64".',
  ],
  [
    'auth without password',
    'image',
    { ...img, registry_auth: { username: 'u' } },
    'registry_auth.password',
    'The argument "registry_auth.password" is required: Registry password or token. Sensitive.',
  ],
  [
    'reservation above limit',
    'virtual_container_host',
    { ...vch, cpu_limit_mhz: 1000, cpu_reservation_mhz: 2000 },
    'cpu_reservation_mhz',
    'cpu_reservation_mhz = 2000 is above cpu_limit_mhz = 1000 MHz; vSphere needs a reservation within its limit. Lower the reservation to at most 1000, raise cpu_limit_mhz, or set cpu_limit_mhz = -1 (unlimited).',
  ],
  [
    'empty compute',
    'virtual_container_host',
    { ...vch, compute: '' },
    'compute',
    'compute = "" is empty. Use the inventory path or MOID of a cluster, a host or a resource pool, e.g. "/DC0/host/DC0_C0".',
  ],
  [
    'relative working dir',
    'container_vm',
    { ...cvm, working_dir: 'srv/app' },
    'working_dir',
    'working_dir = "srv/app" is not an absolute path. Use a path inside the container that starts with "/", e.g. "/srv/app".',
  ],
  [
    'malformed user',
    'container_vm',
    { ...cvm, user: 'root:' },
    'user',
    'user = "root:" is not a user. Write it as name, uid, name:group or uid:gid (ids up to 4294967294), e.g. "nobody" or "1000:1000".',
  ],
  [
    'empty entrypoint element',
    'container_vm',
    { ...cvm, entrypoint: ['/bin/app', ''] },
    'entrypoint[1]',
    'entrypoint[1] = "" is empty; entrypoint elements are the program and its fixed arguments. Remove the empty element, or pass an empty argument through command.',
  ],
  [
    'empty entrypoint, no command',
    'container_vm',
    { ...cvm, entrypoint: [] },
    'entrypoint',
    "entrypoint = [] clears the image entrypoint and command is empty, so the container has nothing to run. Set command to the program to run, or leave entrypoint out to keep the image's.",
  ],
  [
    'empty label key',
    'container_vm',
    { ...cvm, labels: { '': 'web' } },
    'labels[""]',
    'labels[""] = "web" has an empty key. Give the label a key such as "com.example.tier", or remove it.',
  ],
  ['size too small', 'image', { ...img, size_mb: 1 }, 'size_mb', 'size_mb = 1 is below the minimum of 16 MB. Use a value of at least 16.'],
  [
    'a published port outside 1-65535',
    'container_vm',
    { ...cvm, ports: [{ internal: 0 }] },
    'ports[0].internal',
    'ports[0].internal = 0 is below the minimum of 1. Use a value of at least 1.',
  ],
  [
    'a host address that is not IPv4',
    'container_vm',
    { ...cvm, ports: [{ internal: 80, ip: 'localhost' }] },
    'ports[0].ip',
    'ports[0].ip = "localhost" is not an IPv4 address. Write it as four numbers from 0 to 255, e.g. "127.0.0.1".',
  ],
  [
    'one host port published twice (every address clashes with one)',
    'container_vm',
    {
      ...cvm,
      ports: [
        { internal: 80, external: 8080 },
        { internal: 81, external: 8080, ip: '127.0.0.1' },
      ],
    },
    'ports[1].external',
    'ports[1].external = 8080 is taken already by ports[0] on 127.0.0.1. Give each published port its own host port.',
  ],
  [
    'one container port published twice',
    'container_vm',
    { ...cvm, ports: [{ internal: 80 }, { internal: 80, protocol: 'tcp', external: 9000 }] },
    'ports[1].internal',
    'ports[1].internal = 80 is published already by ports[0]. Publish a container port once.',
  ],
];

describe('validateAttrs: bad input is reported with its path and an exact message', () => {
  it.each(rows)('GIVEN %s WHEN validated THEN the message is exact', (_label, type, input, path, detail) => {
    const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Attrs;
    const { problems } = validateAttrs(declarationFor(type).schema, clean);
    expect(problems.map((p) => [formatPath(p.path), p.detail])).toEqual([[path, detail]]);
  });

  it('GIVEN several bad attributes WHEN validated THEN every problem is reported at once', () => {
    const { problems } = validateAttrs(declarationFor('container_vm').schema, { ...cvm, cpus: 0, memory_mb: 3, power_state: 'x' });
    expect(problems.map((p) => formatPath(p.path)).sort()).toEqual(['cpus', 'memory_mb', 'power_state']);
  });

  it('GIVEN a reservation above an invalid or unlimited limit WHEN validated THEN only the limit itself is reported', () => {
    const schema = declarationFor('virtual_container_host').schema;
    expect(validateAttrs(schema, { ...vch, memory_limit_mb: -1, memory_reservation_mb: 4096 }).problems).toEqual([]);
    expect(validateAttrs(schema, { ...vch, memory_limit_mb: -5, memory_reservation_mb: 4096 }).problems.map((p) => formatPath(p.path))).toEqual([
      'memory_limit_mb',
    ]);
    expect(validateAttrs(schema, { ...vch, memory_limit_mb: 'x', memory_reservation_mb: 4096 }).problems.map((p) => formatPath(p.path))).toEqual([
      'memory_limit_mb',
    ]);
  });

  it('GIVEN an empty entrypoint with a command, and users Docker accepts WHEN validated THEN nothing is reported', () => {
    const schema = declarationFor('container_vm').schema;
    for (const user of ['nobody', '1000', '1000:1000', 'www-data:www-data', 'app:0']) {
      expect(validateAttrs(schema, { ...cvm, user, entrypoint: [], command: ['/bin/sh'], working_dir: '/' }).problems).toEqual([]);
    }
  });

  it('GIVEN a minimal valid config WHEN validated THEN defaults are filled and nothing is reported', () => {
    const { attrs, problems } = validateAttrs(declarationFor('container_vm').schema, cvm);
    expect(problems).toEqual([]);
    expect(attrs).toMatchObject({ cpus: 1, memory_mb: 512, power_state: 'running', disk_size_mb: 2048, command: null });
  });

  it('GIVEN an unknown (not yet known) value WHEN validated THEN its checks wait for plan', () => {
    const { problems } = validateAttrs(declarationFor('container_vm').schema, { ...cvm, vch_id: Symbol.for('vic-iac.unknown') as never });
    expect(problems).toEqual([]);
  });

  it('GIVEN a rule between attributes and the other attribute not yet known WHEN validated THEN the rule waits for plan', () => {
    const unknown = Symbol.for('vic-iac.unknown') as never;
    expect(validateAttrs(declarationFor('container_vm').schema, { ...cvm, entrypoint: [], command: unknown }).problems).toEqual([]);
    expect(validateAttrs(declarationFor('virtual_container_host').schema, { ...vch, cpu_reservation_mhz: 5000, cpu_limit_mhz: unknown }).problems).toEqual([]);
    expect(
      validateAttrs(declarationFor('container_vm').schema, { ...cvm, entrypoint: [], command: null as never }).problems.map((p) => formatPath(p.path)),
    ).toEqual(['entrypoint']);
  });
});
