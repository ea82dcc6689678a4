/** The nearest known name for a typo, as every "Did you mean …?" picks it: close names only. */
import { didYouMean, editDistance, nearestName } from '../../../src/resources/nearest-name';

const TYPES = ['virtual_container_host', 'image', 'volume', 'container_vm'];

describe('nearestName', () => {
  it.each([
    ['a dropped letter', 'imag', TYPES, 'image'],
    ['swapped letters', 'contianer_vm', TYPES, 'container_vm'],
    ['a doubled letter', 'idd', ['id', 'name', 'digest'], 'id'],
    ['the name itself', 'volume', TYPES, 'volume'],
    ['a name far from every candidate', 'virtual_machine', TYPES, undefined],
    ['a short word one edit away', 'im', ['id', 'name'], 'id'],
    ['a short word every letter of which differs', 'vm', ['id', 'name'], undefined],
    ['a short word three edits away', 'abc', ['xyz'], undefined],
    ['no candidates', 'image', [], undefined],
  ])('GIVEN %s WHEN looked up THEN %p', (_what, word, candidates, expected) => {
    expect(nearestName(word, candidates)).toBe(expected);
  });

  it('GIVEN two candidates at one distance WHEN looked up THEN the first listed wins (declaration order)', () => {
    expect(nearestName('web', ['wea', 'wex'])).toBe('wea');
  });

  it('GIVEN a near and a far name WHEN phrased THEN the suggestion is quoted, and nothing is said when none is near', () => {
    expect(didYouMean('imgae', TYPES)).toBe(' Did you mean "image"?');
    expect(didYouMean('virtual_machine', TYPES)).toBe('');
  });

  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['memroy_mb', 'memory_mb', 2],
  ])('GIVEN %p and %p WHEN compared THEN %i edits apart', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});
