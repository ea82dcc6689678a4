/** volume: a persistent ext4 disk in a VCH's store that outlives the container VMs that mount it. */
import { v5 as uuidv5 } from 'uuid';
import type { ResourceDeclaration } from './definition';
import { t, type AttrsOf } from './schema';
import { integer, labelKeys, nonEmpty, volumeName } from './validators';

/** Namespace of volume filesystem UUIDs (UUIDv5 of the volume id). Changing it would hide every existing volume from its mounts. */
export const VOLUME_FS_UUID_NAMESPACE = '3c1f6a9e-58d2-4b7e-a0c4-9e2d7b61f835';

/**
 * The ext4 UUID a volume is formatted with: derived from its id (the descriptor's datastore path),
 * so a container VM's guest config names the filesystem to mount without reading the volume.
 */
export function volumeFilesystemUuid(volumeId: string): string {
  return uuidv5(volumeId, VOLUME_FS_UUID_NAMESPACE);
}

/** Where a volume's files live inside its store: `<store>/volumes/<name>/<name>.vmdk`. */
export function volumeDirectory(storePath: string, name: string): string {
  return `${storePath}/volumes/${name}`;
}

export const volume = {
  type: 'volume',
  className: 'Volume',
  description:
    'A persistent volume: an independent-persistent VMDK formatted ext4 in the store of a virtual container host. Container VMs mount it with `volumes`; its data outlives their replacement.',
  schemaVersion: 1,
  migrations: {},
  identity: ['vch_id', 'name'],
  schema: {
    id: {
      type: t.string,
      computed: true,
      stable: true,
      description: 'Datastore path of the volume VMDK descriptor, `[<datastore>] <store>/volumes/<name>/<name>.vmdk`: the `volume_id` of a container VM mount.',
    },
    vch_id: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [nonEmpty('Use the id of a vic_virtual_container_host.')],
      description: 'The id of the virtual container host whose store holds the volume.',
    },
    name: {
      type: t.string,
      required: true,
      forceNew: true,
      validate: [volumeName],
      description: 'Name of the volume, unique within the VCH; also the name of its directory and VMDK.',
      example: 'data',
    },
    size_mb: {
      type: t.number,
      optional: true,
      default: 1024,
      validate: [integer({ min: 16, max: 2097152, unit: 'MB' })],
      description:
        'Size of the disk and its ext4 filesystem. Grows in place (ExtendVirtualDisk; the tether grows the filesystem at the next mount). A shrink is refused at plan: vSphere cannot shrink a disk, and the data would not fit.',
    },
    labels: {
      type: t.map(t.string),
      optional: true,
      validate: [labelKeys],
      description: 'Labels, kept in the volume marker file beside the disk. Update in place.',
    },
    datastore: {
      type: t.string,
      optional: true,
      computed: true,
      forceNew: true,
      validate: [nonEmpty('Name a datastore of the VCH datacenter, or leave it out to use the VCH datastore.')],
      description: "Datastore of the volume; defaults to the VCH's datastore. The directory is `<image_store_path>/volumes/<name>/` on it.",
    },
    force_destroy: {
      type: t.bool,
      optional: true,
      configOnly: true,
      default: false,
      description:
        'Destroy the volume even while VMs have it attached (in the VCH pool or, moved out of it, anywhere on its datastore): its disk is detached from them first. Without it a destroy of an attached volume is refused and names the VMs. A VMDK without the vic-iac marker is never deleted.',
    },
    filesystem_uuid: { type: t.string, computed: true, description: 'UUID of the ext4 filesystem; the tether finds the disk to mount by it.' },
  },
  dataSource: undefined,
  docs: {
    creates:
      'Under `<image_store_path>/volumes/<name>/` on the datastore: `<name>.vmdk` (a monolithicFlat descriptor), `<name>-flat.vmdk` (an empty ext4 filesystem, a thin disk, made by vic-iac with `mke2fs`, root directory owned by root, chowned by the tether to the container user at mount) and `vic-iac-volume.json`, the marker naming the VCH and the volume, written once the disk is complete (while a create runs, the same marker is named `vic-iac-volume.creating.json`: a create killed midway is redone by the next apply, never adopted or mounted half-made, once no create has changed its directory for a minute (before that it may be a create of another process at work, and the apply is refused saying so; two creates of one name at once make it once, the other is refused; a create that fails removes its directory); a directory holding a disk without either marker is never written to). Only the metadata of the empty filesystem travels, whatever `size_mb`: the filesystem goes up as a hosted sparse VMDK (`<name>-upload-sparse.vmdk`, deleted once converted) that vSphere converts into a thin disk (`CopyVirtualDisk_Task`); a server that refuses that conversion gets the whole flat extent instead. A destroy checks the marker before it deletes anything. Container VMs attach the disk in `independent_persistent` mode, or `independent_nonpersistent` when they mount it read-only (running container VMs that all mount it read-only share it), so VM snapshots never capture it.',
    importHelp:
      'Import by the datastore path of the VMDK descriptor, e.g. `[LocalDS_0] demo/volumes/data/data.vmdk`. Only a volume carrying the vic-iac marker file is imported; the VCH comes from the marker.',
    example: `resource "vic_volume" "data" {
  vch_id  = vic_virtual_container_host.demo.id
  name    = "data"
  size_mb = 512
}`,
  },
} satisfies ResourceDeclaration;

/** A volume's attributes as its lifecycle reads them. */
export type VolumeAttrs = AttrsOf<typeof volume.schema>;
