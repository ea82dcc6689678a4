/**
 * The guest runner's pure parts (datastore paths, the launch spec, QEMU arguments, status lines) are
 * Go unit tests in src/sim/runner; this runs them so `npm test` covers them.
 */
import { goTest } from '../helpers/go-test';

test('GIVEN the guest runner sources WHEN go test runs THEN every Go unit test passes', async () => {
  expect(await goTest('src/sim/runner')).toMatch(/^ok\s+vic-iac\/sim\/runner/m);
}, 180_000);
