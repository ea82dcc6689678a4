/**
 * The store an image's read and delete follow comes from the disk path in the state: only the shape
 * vic-iac writes, for the digest in the state's id, is accepted.
 */
import { DatastoreImageStore, storeOfImageDisk } from '../../../src/images';
import type { VimClient } from '../../../src/vsphere';

const hex = 'ab'.repeat(32);
const digest = `sha256:${hex}`;
const other = 'cd'.repeat(32);

describe('storeOfImageDisk', () => {
  it.each([
    ['a VCH store', `[LocalDS_0] vch-1/images/${hex}/${hex}.vmdk`, { datastore: 'LocalDS_0', path: 'vch-1' }],
    ['a nested store on a datastore with spaces', `[datastore 1] vic/vch-1/images/${hex}/${hex}.vmdk`, { datastore: 'datastore 1', path: 'vic/vch-1' }],
  ])('GIVEN %s WHEN parsed THEN its datastore and directory', (_what, diskPath, expected) => {
    expect(storeOfImageDisk(diskPath, digest)).toEqual(expected);
  });

  it.each([
    ['another digest in the path', `[LocalDS_0] vch-1/images/${other}/${other}.vmdk`],
    ['a descriptor named after another digest', `[LocalDS_0] vch-1/images/${hex}/${other}.vmdk`],
    ['the flat extent instead of the descriptor', `[LocalDS_0] vch-1/images/${hex}/${hex}-flat.vmdk`],
    ['a store at the datastore root', `[LocalDS_0] images/${hex}/${hex}.vmdk`],
    ['".." in the store', `[LocalDS_0] vch-1/../other/images/${hex}/${hex}.vmdk`],
    ['"." in the store', `[LocalDS_0] ./images/${hex}/${hex}.vmdk`],
    ['an empty segment', `[LocalDS_0] vch-1//images/${hex}/${hex}.vmdk`],
    ['a leading slash', `[LocalDS_0] /vch-1/images/${hex}/${hex}.vmdk`],
    ['no datastore', `vch-1/images/${hex}/${hex}.vmdk`],
    ['an empty datastore', `[] vch-1/images/${hex}/${hex}.vmdk`],
    ['no "images" directory', `[LocalDS_0] vch-1/${hex}/${hex}.vmdk`],
    ['a directory, not the disk', `[LocalDS_0] vch-1/images/${hex}`],
    ['an empty string', ''],
  ])('GIVEN %s WHEN parsed THEN refused', (_what, diskPath) => {
    expect(storeOfImageDisk(diskPath, digest)).toBeUndefined();
  });

  it('GIVEN an id that is not a digest WHEN parsed THEN refused, whatever the path', () => {
    expect(storeOfImageDisk(`[LocalDS_0] vch-1/images/${hex}/${hex}.vmdk`, hex)).toBeUndefined();
    expect(storeOfImageDisk(`[LocalDS_0] vch-1/images/${hex}/${hex}.vmdk`, `sha256:${hex.toUpperCase()}`)).toBeUndefined();
  });

  it('GIVEN an accepted path WHEN the store is built from it THEN it locates the very same disk path', () => {
    const diskPath = `[datastore 1] vic/vch-1/images/${hex}/${hex}.vmdk`;
    const location = storeOfImageDisk(diskPath, digest)!;
    const store = new DatastoreImageStore({
      client: {} as VimClient,
      datacenter: { ref: { type: 'Datacenter', value: 'datacenter-2' }, path: 'DC0' },
      ...location,
    });
    expect(store.locate(`images/${hex}/${hex}.vmdk`)).toBe(diskPath);
  });
});
