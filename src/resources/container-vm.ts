/** container_vm: one container as one vSphere VM, booted from the bootstrap ISO into its image. */
import type { ResourceDeclaration } from './definition';
import { t, type AttrsOf } from './schema';
import {
  absolutePath,
  containerUser,
  volumeId,
  digest,
  distinctMounts,
  distinctPorts,
  envNames,
  gatewayOf,
  onSomeNetwork,
  hostname,
  hostEntries,
  integer,
  ipv4Address,
  ipv4Cidr,
  labelKeys,
  mountPath,
  nonEmpty,
  nonEmptyElements,
  objectName,
  oneOf,
  runsSomething,
} from './validators';

/** Volumes per container VM: SCSI units 1 to 15 of its one controller, minus the controller's own unit 7. */
export const MAX_VOLUMES = 14;

/** Why container VMs have a memory floor: below it the guest hangs before the container starts, silently. */
const MIN_MEMORY_REASON = "the bootstrap ISO's kernel and initramfs need it to boot";

export const containerVm = {
  type: 'container_vm',
  className: 'ContainerVm',
  description:
    'A container VM: a vSphere VM in the pool and folder of a virtual container host that boots the bootstrap ISO, switches root into a writable child disk of its image, and runs the container process.',
  schemaVersion: 1,
  migrations: {},
  identity: ['vch_id', 'name'],
  schema: {
    id: {
      type: t.string,
      computed: true,
      stable: true,
      description:
        'BIOS UUID of the VM: UUIDv5 of (VCH id, name), or of (VCH id, name, n) when a renamed container VM still holds the first, so a crashed create is found again, never duplicated. A rename keeps it.',
    },
    vch_id: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [nonEmpty('Use the id of a vic_virtual_container_host.')],
      description: 'The id of the virtual container host.',
    },
    image_id: { type: t.string, required: true, forceNew: true, validate: [digest], description: 'The image digest, as the id of a vic_image resource.' },
    name: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [objectName('container VM')],
      description:
        'Name of the VM and of the container; unique within the VCH. A plan that gives two container VMs the same name in one VCH is refused, and an apply never takes over a VM another resource holds.',
      example: 'web-1',
    },
    command: { type: t.list(t.string), marker: true, optional: true, forceNew: true, description: 'Arguments to the entrypoint; replaces the image CMD.' },
    entrypoint: {
      type: t.list(t.string),
      marker: true,
      optional: true,
      forceNew: true,
      validate: [
        nonEmptyElements('entrypoint elements are the program and its fixed arguments', 'Remove the empty element, or pass an empty argument through command.'),
        runsSomething('command'),
      ],
      description: 'Entrypoint; replaces the image ENTRYPOINT and, as in Docker, drops the image CMD.',
    },
    env: {
      type: t.map(t.string),
      marker: true,
      optional: true,
      forceNew: true,
      validate: [envNames],
      description: 'Environment variables, added to the image environment.',
    },
    secret_env: {
      type: t.map(t.string),
      optional: true,
      sensitive: true,
      forceNew: true,
      validate: [envNames],
      description:
        'Environment variables whose values are secret: added like `env`, but never shown in plans, logs or the console, and kept as salted hashes in the VM markers. The guest still reads them from `guestinfo.vic.config`, which anyone with read access to the VM can see (docs/security.md). A name may not be in both `env` and `secret_env`.',
    },
    working_dir: {
      type: t.string,
      marker: true,
      optional: true,
      forceNew: true,
      validate: [absolutePath],
      description: 'Working directory; defaults to the image WORKDIR.',
    },
    user: {
      type: t.string,
      marker: true,
      optional: true,
      forceNew: true,
      validate: [containerUser],
      description: 'User (name, uid or uid:gid); defaults to the image USER.',
    },
    tty: {
      type: t.bool,
      marker: true,
      optional: true,
      default: false,
      forceNew: true,
      description:
        "Give the process a terminal, as docker's `-t` does: a pseudo-terminal (80 columns, 24 rows) is its stdin, stdout, stderr and controlling terminal, and what it writes there is its stdout (lines end in CR LF, as on any terminal). With `stdin_open`, what a client attaches as its input (`docker attach`, `docker run -it`) is typed into it.",
    },
    stdin_open: {
      type: t.bool,
      marker: true,
      optional: true,
      default: false,
      forceNew: true,
      description:
        "Keep the process's stdin open, as docker's `-i` does, instead of at end of file: a shell then waits for input rather than exit at once (`docker run -itd`). A client attached with stdin (the Docker endpoint's `docker attach`, `docker run -i`) writes to it, through the VM's extraConfig; its guest takes that input under the embedded simulator, not yet on vSphere.",
    },
    hostname: {
      type: t.string,
      marker: true,
      optional: true,
      forceNew: true,
      validate: [hostname],
      description: 'Hostname inside the container; defaults to the name.',
    },
    extra_hosts: {
      type: t.list(t.string),
      marker: true,
      optional: true,
      validate: [hostEntries],
      description:
        'Lines the guest adds to the container\'s `/etc/hosts` at its boot, each "NAME:ADDRESS" (an IPv4 or IPv6 address), as docker run `--add-host` and compose `extra_hosts` give them. Updates in place: the guest writes them when the VM starts, so a running container VM has new ones from its next start.',
    },
    cpus: {
      type: t.number,
      optional: true,
      default: 1,
      validate: [integer({ min: 1, max: 128 })],
      description: 'Virtual CPUs. Updates in place; vSphere needs the VM powered off for it, so the plan says so.',
    },
    memory_mb: {
      type: t.number,
      optional: true,
      default: 512,
      validate: [integer({ min: 128, max: 6128640, multipleOf: 4, unit: 'MB', minReason: MIN_MEMORY_REASON })],
      description:
        'Memory in MB, a multiple of 4, at least 128 (what the bootstrap ISO needs to boot). Updates in place; vSphere needs the VM powered off for it, so the plan says so.',
    },
    labels: { type: t.map(t.string), optional: true, validate: [labelKeys], description: 'Labels, stored on the VM. Update in place.' },
    networks: {
      type: t.list(t.string),
      marker: true,
      optional: true,
      computed: true,
      forceNew: true,
      validate: [nonEmptyElements('each element names the portgroup of one NIC', 'Use a portgroup name or MOID, or remove the element.')],
      description:
        "Portgroup names or MOIDs, one NIC each. Unset: the bridge network of the VCH. An empty list: no NIC at all (docker's `--network none`); the process still has its loopback. Each must exist when planned.",
    },
    ip_address: {
      type: t.string,
      marker: true,
      optional: true,
      forceNew: true,
      validate: [ipv4Cidr, onSomeNetwork('networks')],
      description:
        'A static IPv4 address with its prefix length for the first NIC (e.g. "10.0.2.50/24"); unset: DHCP. The guest applies it at boot and reports it in `ip_addresses`. Other NICs use DHCP.',
      example: '10.0.2.50/24',
    },
    gateway: {
      type: t.string,
      marker: true,
      optional: true,
      forceNew: true,
      validate: [gatewayOf('ip_address')],
      description: 'The default gateway with a static `ip_address`, in its subnet; unset: no default route.',
      example: '10.0.2.2',
    },
    power_state: {
      type: t.string,
      optional: true,
      default: 'running',
      validate: [oneOf(['running', 'stopped'])],
      description:
        '"running" or "stopped". Updates in place. "stopped" stops the process as docker stop does: SIGTERM, then a power-off if it still runs 10 s later, so that what it writes reaches its volumes (so does the power cycle of a cpus or memory_mb change, and the destroy of a container VM with volumes). Under vSphere, whose tether reads no signal yet, the VM is powered off at once. See `must_run` for a container whose process ended by itself.',
    },
    restart: {
      type: t.string,
      marker: true,
      optional: true,
      default: 'no',
      validate: [oneOf(['no', 'on-failure', 'always', 'unless-stopped'])],
      description:
        'Restart policy, as Docker\'s: "no", "on-failure" (after a non-zero exit), "always" or "unless-stopped". The tether restarts the process inside the VM, without a power cycle; `status` says "running" meanwhile. A container VM that is stopped (`power_state`, `docker stop`) is powered off and nothing starts it again by itself, so "always" and "unless-stopped" behave the same: as Docker\'s "unless-stopped". Updates in place: the guest reads it when the VM starts, so a running container VM follows a new policy from its next start.',
    },
    max_restarts: {
      type: t.number,
      marker: true,
      optional: true,
      validate: [integer({ min: 0, max: 1000000 })],
      description: 'At most this many restarts under the restart policy; unset or 0: no bound. Updates in place, as `restart` does.',
    },
    must_run: {
      type: t.bool,
      marker: true,
      optional: true,
      default: true,
      description:
        'Whether the container must keep running. false: a container whose process ended by itself (`status` "exited", its VM powered off after it) has done what `power_state` "running" asked; it is not drift and is not started again (a run-once job), and `power_state` keeps reading "running". It is still started when created. true: such a VM is powered on again by the next apply. Updates in place.',
    },
    start_wait: {
      type: t.number,
      marker: true,
      optional: true,
      default: 0,
      validate: [integer({ min: 0, max: 3600, unit: 'seconds' })],
      description:
        'Seconds an apply that powers the container VM on (its create, or `power_state` back to "running") waits for its process to report, as `docker start` does, so that the state and outputs have `status`, `started_at` and `ip_addresses` from the apply rather than from the next refresh (the vSphere provider\'s `wait_for_guest_net_timeout`, the Docker provider\'s start). The wait ends as soon as this run\'s process reports (running, ended already, or waiting out its restart policy\'s back-off), when the guest waits for a free slot of the embedded simulator (`guest_queued`), or when the VM goes off. A guest that has not reported by then leaves the apply successful, with a warning and `status` "created" (the VM is on; the next refresh reads what it reports). 0 (the default): the apply ends at the power-on. Updates in place, for the next power-on.',
      example: 120,
    },
    disk_size_mb: {
      type: t.number,
      marker: true,
      optional: true,
      default: 2048,
      forceNew: true,
      validate: [integer({ min: 16, max: 2097152, unit: 'MB' })],
      description: 'Size of the writable layer (the child delta disk).',
    },
    volumes: {
      type: t.list(
        t.object({
          volume_id: { type: t.string, required: true, validate: [volumeId], description: 'The id of a vic_volume of the same VCH.' },
          path: {
            type: t.string,
            required: true,
            validate: [mountPath],
            description: 'Where the volume is mounted in the container: an absolute path other than "/"; created when missing.',
          },
          read_only: {
            type: t.bool,
            optional: true,
            default: false,
            description:
              'Mount read-only: the disk is attached independent-nonpersistent (what the container writes there, ext4 journal replays included, vSphere discards at power-off), so running container VMs that all mount it read-only share it. A read-write mount is the only running user of its volume; stopped container VMs may mount it as well.',
          },
        }),
      ),
      marker: true,
      optional: true,
      block: true,
      forceNew: true,
      validate: [distinctMounts(MAX_VOLUMES)],
      description:
        'Volumes to mount, one block each. Each volume is an independent disk of the VM (persistent, or nonpersistent when `read_only`); the tether mounts it at `path` before the process starts, owned by the container user unless `read_only`. A new (empty) volume mounted read-write over files of the image first takes a copy of them, with their owners, as dockerd fills a new volume. Changing the set of mounts replaces the VM (the data stays on the volumes): the guest config names the mounts, and the tether mounts them only at boot. A volume detached in vSphere is attached again by the next apply. A volume is open read-write in one running container VM at a time (vSphere locks its disk), and shared only among running container VMs that all mount it read-only: a running one whose mount conflicts fails at plan, or at power-on when the other is in another state.',
    },
    ports: {
      type: t.list(
        t.object({
          internal: { type: t.number, required: true, validate: [integer({ min: 1, max: 65535 })], description: 'The port in the container.' },
          external: {
            type: t.number,
            optional: true,
            validate: [integer({ min: 0, max: 65535 })],
            description:
              'The port on the host; unset (or 0): a free one, chosen at each power-on. A port another process (or another container VM) holds fails the power-on: "port is already allocated".',
          },
          ip: {
            type: t.string,
            optional: true,
            default: '0.0.0.0',
            validate: [ipv4Address],
            description: 'The host address to publish on; "0.0.0.0": every address of the host.',
          },
          protocol: { type: t.string, optional: true, default: 'tcp', validate: [oneOf(['tcp', 'udp'])], description: '"tcp" or "udp".' },
        }),
      ),
      marker: true,
      optional: true,
      block: true,
      forceNew: true,
      validate: [distinctPorts],
      description:
        "Ports to publish on the host, one block each, as docker run -p does (the docker provider's `ports`). Only the embedded simulator publishes them (docs/runner.md), where they replace its own publishing of those image ports on 127.0.0.1; on vSphere a container VM has its own address on its port group, where its ports are reached as they are, and these are kept but not published. Changing them replaces the VM. `published_ports` shows where each one went.",
    },
    moid: { type: t.string, computed: true, description: 'The VM managed object id.' },
    ip_addresses: {
      type: t.list(t.string),
      computed: true,
      description:
        'IP addresses as vSphere reports them, else as the guest reported them while it runs (empty until it reports: right after an apply that powered it on, unless `start_wait` has the apply wait for that).',
    },
    network_interfaces: {
      type: t.list(
        t.object({
          ip_address: { type: t.string, computed: true, description: "The NIC's IPv4 address, without its prefix length; empty when it got none." },
          prefix_length: { type: t.number, computed: true, description: 'The prefix length of its subnet (24 for a /24).' },
          gateway: { type: t.string, computed: true, description: 'Its default gateway; empty when it has none.' },
          mac_address: { type: t.string, computed: true, description: 'Its MAC address, the one vSphere gave the virtual network card.' },
        }),
      ),
      computed: true,
      description:
        "What the guest reports of each NIC while the VM is on for its process, in the order of `networks` (the first: the VCH's `bridge_network` when `networks` is unset): its address with the prefix length and gateway it took (DHCP or `ip_address`/`gateway`) and its MAC address. Empty while the VM is off, and before the guest reports. Read-only.",
    },
    published_ports: {
      type: t.map(t.string),
      computed: true,
      description:
        'Where the host reaches the container\'s exposed ports, by port ("80/tcp" = "127.0.0.1:41234"), while the VM is on for its process (from its power-on: while the guest boots too). Only the embedded simulator publishes ports (docs/runner.md: a new host port at each power-on, picked before the power-on ends); on vSphere this stays empty and the container is reached at its `ip_addresses`. Read-only.',
    },
    vm_path: { type: t.string, computed: true, description: 'Datastore path of the .vmx file.' },
    guest_queued: {
      type: t.bool,
      computed: true,
      description:
        "True while the VM is powered on and its guest waits for a free slot: the embedded simulator runs a limited number of guests at once (`vic sim start --max-guests`, the demo's `VIC_MAX_GUESTS`), and starts this one when another stops. Always false on vSphere. Read-only.",
    },
    status: {
      type: t.string,
      computed: true,
      description:
        'The container process as the guest reports it: "created" (not started, or powered on and its process has not reported yet: an apply that powers a container VM on ends before its guest boots, and the next refresh reads "running", unless `start_wait` has it wait for the report), "running" or "exited". Read-only.',
    },
    exit_code: {
      type: t.number,
      computed: true,
      description:
        'Exit code of the last process that ended (128 + signal when a signal killed it; 137 when its VM was powered off under it); null until one ends.',
    },
    restart_count: {
      type: t.number,
      computed: true,
      description:
        "How many times the guest started the process again under `restart` in the current run of the VM (docker inspect's `RestartCount`); 0 again at each power-on; null until the process first reports.",
    },
    started_at: { type: t.string, computed: true, description: 'When the container process last started (RFC 3339, UTC); null before the first start.' },
    finished_at: {
      type: t.string,
      computed: true,
      description: 'When the container process last ended (RFC 3339, UTC); null while it runs or before it ever ends.',
    },
  },
  dataSource: undefined,
  docs: {
    creates:
      'A VM (guest `otherGuest64`) in the VCH pool and folder with a PVSCSI controller, a writable child delta disk whose parent is the image disk, the disk of each mounted volume (independent-persistent, detached again before the VM is destroyed), a CD-ROM with the bootstrap ISO, one NIC per network, and a serial port logging to `<vm dir>/console.log`. The container config is in extraConfig under `guestinfo.vic.config`; ownership markers under `vic.*`.',
    importHelp: 'Import by BIOS UUID, VM MOID (`vm-123`) or inventory path.',
    example: `resource "vic_container_vm" "web" {
  vch_id     = vic_virtual_container_host.demo.id
  image_id   = vic_image.busybox.id
  name       = "web-1"
  command    = ["httpd", "-f", "-p", "80"]
  env        = { GREETING = "hello" }
  secret_env = { API_TOKEN = var.api_token }
  memory_mb  = 256
}`,
  },
} satisfies ResourceDeclaration;

/** A container VM's attributes as its lifecycle reads them. */
export type ContainerVmAttrs = AttrsOf<typeof containerVm.schema>;
