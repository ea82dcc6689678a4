/** The file matchers of the disk users check: one datastore path, however vSphere spaces it. */
import { isBelow, isFile } from '../../../src/resources/disk-users';

describe('disk users: file matchers', () => {
  test.each([
    ['[ds] store/volumes/v/v.vmdk', true],
    ['[ds]store/volumes/v/v.vmdk', true],
    ['[ds] /store//volumes/v/v.vmdk', true],
    ['[ds] store/volumes/v/w.vmdk', false],
    ['[other] store/volumes/v/v.vmdk', false],
  ])('GIVEN the volume [ds] store/volumes/v/v.vmdk WHEN a backing names %s THEN isFile says %s', (file, want) => {
    expect(isFile('[ds] store/volumes/v/v.vmdk')(file)).toBe(want);
  });

  test.each([
    ['[ds] store/images/abc/abc.vmdk', true],
    ['[ds]store/images/abc/abc-flat.vmdk', true],
    ['[ds] store/images/abcd/abcd.vmdk', false],
    ['[ds] store/images/abc', false],
    ['[ds2] store/images/abc/abc.vmdk', false],
  ])('GIVEN the image directory [ds] store/images/abc WHEN a backing names %s THEN isBelow says %s', (file, want) => {
    expect(isBelow('[ds] store/images/abc/')(file)).toBe(want);
  });
});
