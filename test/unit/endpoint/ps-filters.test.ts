/**
 * `docker ps --filter name=…` as dockerd reads it: a regular expression against the name with and
 * without its leading "/" (moby 18.09 on), so the common exact-name idiom `name=^web$` works.
 */
import { matchesFilters } from '../../../src/endpoint/containers';

const vm = { id: '4b1c0a52-0000-5000-8000-000000000001', name: 'web-1', power_state: 'running', labels: {} };
const named = (pattern: string) => matchesFilters(vm, new Map([['name', [pattern]]]));

describe('docker ps --filter name', () => {
  it.each(['web', '^web-1$', '^/web-1$', 'b-1$', 'web-[0-9]', '^w'])('%s finds web-1', (pattern) => {
    expect(named(pattern)).toBe(true);
  });

  it.each(['^web$', '^eb', 'db', '^//web-1'])('%s does not', (pattern) => {
    expect(named(pattern)).toBe(false);
  });

  it('takes a pattern that is not a regular expression as a part of the name', () => {
    expect(named('web-1(')).toBe(false);
    expect(matchesFilters({ ...vm, name: 'web-1(' }, new Map([['name', ['b-1(']]]))).toBe(true);
  });
});
