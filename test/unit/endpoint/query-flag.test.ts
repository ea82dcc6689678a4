/** queryFlag reads a boolean query parameter as dockerd's httputils.BoolValue does. */
import { queryFlag } from '../../../src/endpoint/protocol';

describe('queryFlag', () => {
  test.each([
    ['force=1', true],
    ['force=true', true],
    ['force=True', true],
    ['force=yes', true],
    ['force=0', false],
    ['force=false', false],
    ['force=False', false],
    ['force=no', false],
    ['force=NONE', false],
    ['force=', false],
    ['', false],
  ])('GIVEN ?%s THEN it is %s', (query, expected) => {
    expect(queryFlag(new URLSearchParams(query), 'force')).toBe(expected);
  });
});
