/**
 * What someone allowed to set custom fields and write datastore files could do to a VCH behind
 * vic-iac's back: rewrite the pool's `vic-iac.vch` marker, and plant a complete copy of an image in
 * another directory for the rewritten marker to point at.
 */
import { moRef, type VimClient } from '../../src/vsphere';
import { ensureCustomFieldDef, setCustomField } from '../../src/vsphere/custom-fields';
import { downloadDatastoreFile, uploadDatastoreFile } from '../../src/vsphere/datastore-http';
import { retrieveObject } from '../../src/vsphere/property-collector';

/** Merges `change` into the marker on the VCH pool `vchId`. */
export async function rewriteVchMarker(client: VimClient, vchId: string, change: Record<string, unknown>): Promise<void> {
  const key = (await ensureCustomFieldDef(client, 'vic-iac.vch')).key;
  const pool = moRef('ResourcePool', vchId);
  const { customValue } = await retrieveObject<{ customValue?: Array<{ key: number; value: string }> | { key: number; value: string } }>(client, pool, [
    'customValue',
  ]);
  const current = [customValue ?? []]
    .flat()
    .filter((c) => Number(c.key) === key)
    .pop();
  if (!current) throw new Error(`resource pool ${vchId} carries no vic-iac.vch marker to rewrite`);
  await setCustomField(client, pool, key, JSON.stringify({ ...(JSON.parse(current.value) as Record<string, unknown>), ...change }));
}

/**
 * Copies the image `hex` from the store `from` to the store `to` on LocalDS_0 of DC0, complete as
 * the store check sees it: the same metadata and descriptor, an extent of the same size (zeros).
 */
export async function plantImageCopy(client: VimClient, from: string, to: string, hex: string, extentBytes: number): Promise<void> {
  const file = (store: string, name: string) => ({ datacenter: 'DC0', datastore: 'LocalDS_0', path: `${store}/images/${hex}/${name}` });
  for (const name of ['metadata.json', `${hex}.vmdk`]) {
    const chunks: Buffer[] = [];
    for await (const c of await downloadDatastoreFile(client, file(from, name))) chunks.push(c as Buffer);
    await uploadDatastoreFile(client, file(to, name), Buffer.concat(chunks));
  }
  await uploadDatastoreFile(client, file(to, `${hex}-flat.vmdk`), Buffer.alloc(extentBytes));
}
