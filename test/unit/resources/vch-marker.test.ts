/**
 * GIVEN the text of a VCH pool's `vic-iac.vch` custom field WHEN parsed THEN a marker, or an error
 * that says why (a marker that does not parse is refused everywhere, never read as "not ours").
 */
import { parseVchMarker } from '../../../src/resources/snapshot';

const good = {
  v: 1,
  name: 'vch-a',
  datacenter: 'DC0',
  datacenter_id: 'datacenter-2',
  datastore: 'LocalDS_0',
  datastore_id: 'datastore-1',
  image_store_path: 'vch-a',
  bridge_network: null,
  bootstrap_iso: null,
  folder_id: 'group-9',
  compute: '/DC0/host/DC0_C0',
};

const rows: Array<[string, string, string | undefined]> = [
  ['a complete marker', JSON.stringify(good), undefined],
  ['a pending marker', JSON.stringify({ ...good, pending: true, folder_id: null }), undefined],
  ['truncated JSON', JSON.stringify(good).slice(0, 40), 'it is not JSON'],
  ['a JSON string', '"vch-a"', 'it is not a version 1 VCH marker'],
  ['null', 'null', 'it is not a version 1 VCH marker'],
  ['another version', JSON.stringify({ ...good, v: 2 }), 'it is not a version 1 VCH marker'],
  ['no image store path', JSON.stringify({ ...good, image_store_path: undefined }), 'it is not a version 1 VCH marker (missing image_store_path)'],
  ['a numeric datastore', JSON.stringify({ ...good, datastore: 7 }), 'it is not a version 1 VCH marker (missing datastore)'],
];

describe('parseVchMarker', () => {
  test.each(rows)('GIVEN %s WHEN parsed THEN the marker or the reason', (_what, text, error) => {
    const parsed = parseVchMarker(text);
    if (error === undefined) {
      expect(parsed.error).toBeUndefined();
      expect(parsed.marker).toEqual(JSON.parse(text));
    } else {
      expect(parsed.marker).toBeUndefined();
      expect(parsed.error).toContain(error);
    }
  });
});
