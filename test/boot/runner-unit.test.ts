/**
 * The Go unit tests of the embedded simulator: the guest runner's (datastore paths, the launch spec,
 * QEMU arguments, status lines, the port group switch, the ISO's kernel boot, one real network QEMU)
 * in src/sim/runner (and its accelerator's cache), and the launcher's (fault rules, random faults, call statistics, MoveIntoResourcePool) in
 * src/sim/launcher; this runs them so `npm test` covers them.
 */
import { goTest } from '../helpers/go-test';

test('GIVEN the guest runner sources WHEN go test runs THEN every Go unit test passes', async () => {
  expect(await goTest('src/sim/runner')).toMatch(/^ok\s+vic-iac\/sim\/runner/m);
}, 180_000);

test('GIVEN the launcher sources WHEN go test runs THEN every Go unit test passes', async () => {
  expect(await goTest('src/sim/launcher')).toMatch(/^ok\s+vic-iac\/sim\/launcher/m);
}, 180_000);
