/** image: a container image pulled from a registry and stored as an ext4 VMDK in a VCH image store. */
import type { ResourceDeclaration } from './definition';
import { t, type AttrsOf } from './schema';
import { imageReference, integer, nonEmpty, platform } from './validators';

export const image = {
  type: 'image',
  className: 'Image',
  description:
    'A container image pulled from an OCI registry, flattened into an ext4 filesystem and stored as a VMDK in the image store of a virtual container host. Container VMs use it as the parent of their writable disk.',
  schemaVersion: 1,
  migrations: {},
  // Content-addressed: the new digest gets its own directory, so the old image can stay until the
  // container VMs that use it have moved to the new one.
  replaceOrder: 'create-before-destroy',
  // A digest names one image per VCH store: the same digest in another VCH is another object.
  objectKey: ['vch_id', 'id'],
  importId: ['vch_id', 'id'],
  // One reference resolves to one digest, one directory of the store: two resources would share it,
  // and destroying either would delete the disk the other's container VMs use.
  identity: ['vch_id', 'reference'],
  duplicateAdvice:
    'Declare the image once (one vic_image resource, or one vic.Image) and give its id to every container VM that uses it, instead of a second image resource with the same reference.',
  // Two references (a tag and @sha256:…, two tags) may resolve to one digest, one disk.
  duplicateObjectAdvice:
    'Declare one vic_image (or one vic.Image) for this digest and give its id to the container VMs of both. If both exist already, remove the other from the configuration and from the state (terraform state rm, pulumi state delete) instead of destroying it: destroying it deletes the disk.',
  schema: {
    id: { type: t.string, computed: true, description: 'The manifest digest (sha256:…).' },
    vch_id: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [nonEmpty('Use the id of a vic_virtual_container_host.')],
      description: 'The id of the virtual container host whose image store holds the image.',
    },
    reference: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [imageReference],
      description:
        'Image reference: registry/repository:tag or …@sha256:digest. It is resolved at every plan, even before the virtual container host exists, so a missing repository, tag or digest, an unreachable registry or a missing platform fails the plan. Once the image is stored, an unreachable registry (refused, timed out, a server error) only warns: the plan keeps the stored digest, so the container VMs can still be changed during an outage. When a tag moves, the plan shows the new `digest` and replaces the image and the container VMs that use it; the old image is deleted only after they have moved.',
      example: '127.0.0.1:5000/library/busybox:1.36',
    },
    platform: {
      type: t.string,
      optional: true,
      default: 'linux/amd64',
      forceNew: true,
      validate: [platform],
      description:
        'Platform picked from a multi-platform index. Only linux/amd64 (with an optional variant): a container VM boots an x86-64 Linux kernel, so an image for another platform could not run.',
    },
    registry_auth: {
      type: t.object({
        username: { type: t.string, required: true, description: 'Registry user name.' },
        password: { type: t.string, required: true, sensitive: true, description: 'Registry password or token. Sensitive.' },
      }),
      optional: true,
      configOnly: true,
      block: true,
      description: 'Credentials for the registry (basic or bearer-token auth).',
    },
    insecure_registry: {
      type: t.bool,
      optional: true,
      configOnly: true,
      default: false,
      description: 'Allow plain HTTP or an unverified TLS certificate for this registry. Opt-in only.',
    },
    ca_file: { type: t.string, optional: true, configOnly: true, description: 'PEM file with the CA that signed the registry certificate.' },
    size_mb: {
      type: t.number,
      optional: true,
      computed: true,
      forceNew: true,
      validate: [integer({ min: 16, max: 2097152, unit: 'MB' })],
      description:
        'Size of the ext4 filesystem. Defaults to the image content plus headroom. When set, it is also the limit on what the layers may unpack to (default 16384 MB, `VIC_IMAGE_MAX_UNPACKED_MB`); see docs/security.md.',
    },
    digest: {
      type: t.string,
      computed: true,
      description: 'The manifest digest the reference resolved to. Known at plan time when a tag moved: a new digest forces replacement.',
    },
    disk_path: { type: t.string, computed: true, description: 'Datastore path of the image VMDK.' },
    size_bytes: { type: t.number, computed: true, description: 'Size of the flat disk in bytes.' },
    entrypoint: { type: t.list(t.string), computed: true, description: 'Entrypoint from the image config.' },
    cmd: { type: t.list(t.string), computed: true, description: 'Default command from the image config.' },
    env: { type: t.list(t.string), computed: true, description: 'Environment (KEY=value) from the image config.' },
    working_dir: { type: t.string, computed: true, description: 'Working directory from the image config.' },
    user: { type: t.string, computed: true, description: 'User from the image config.' },
    exposed_ports: { type: t.list(t.string), computed: true, description: 'Exposed ports from the image config, e.g. "80/tcp".' },
    labels: { type: t.map(t.string), computed: true, description: 'Labels from the image config.' },
  },
  dataSource: {
    description:
      'Reads an image already in a VCH image store, by a name the store holds (the reference it was pulled as, or a tag given to it since) or by digest (name@sha256:…), without asking the registry: a private or plain-HTTP registry needs no settings here. Another tag of a stored image is resolved by the registry with default settings (TLS verified, no credentials).',
    lookup: ['vch_id', 'reference'],
  },
  docs: {
    creates:
      'Under `<image_store>/images/<hex>/`: `<hex>.vmdk` (a monolithicFlat descriptor), `<hex>-flat.vmdk` (the ext4 filesystem, a thin disk), `metadata.json` (the image config), `files.ndjson.gz` (the listing of its files, which `docker diff` compares a container with) and, once a second reference of the digest holds the disk, `references.json` (the references that hold it: a destroy drops its own and deletes the disk only with the last one, which keeps it for docker under `<repository>@sha256:…` while containers docker made still use it; `images/<hex>.lock` is held while a process changes the list or deletes the disk). `<hex>` is the manifest digest without `sha256:`. Content-addressed: the same digest is never pulled or uploaded twice. The upload carries only the filesystem blocks that hold data: the filesystem goes up as a hosted sparse VMDK (`<hex>-upload-sparse.vmdk`, deleted once converted) that vSphere converts into the thin disk (`CopyVirtualDisk_Task`); a server that refuses that conversion gets the whole flat extent instead.',
    importHelp:
      "Import by `<vch_id>/<digest>`. The import finds the image store through the VCH pool's marker, once: what it finds becomes `disk_path`, and every later refresh and destroy follows `disk_path`, never the marker (check it after an import).",
    example: `resource "vic_image" "busybox" {
  vch_id    = vic_virtual_container_host.demo.id
  reference = "127.0.0.1:5000/library/busybox:1.36"
}`,
  },
} satisfies ResourceDeclaration;

/** An image's attributes as its lifecycle reads them. */
export type ImageAttrs = AttrsOf<typeof image.schema>;
