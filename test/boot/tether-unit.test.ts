/**
 * The tether's pure parts (config parsing, ext4 superblock, user lookup, VMware RPC framing) are
 * Go unit tests in guest/tether; this runs them so `npm test` covers them.
 */
import { goTest } from '../helpers/go-test';

test('GIVEN the tether sources WHEN go test runs THEN every Go unit test passes', async () => {
  expect(await goTest('guest/tether')).toMatch(/^ok\s+vic-iac\/guest\/tether/m);
}, 180_000);
