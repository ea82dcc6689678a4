/**
 * The provider host reads the schema version stored among a resource's outputs before it does
 * anything else: outputs a newer vic-iac wrote are refused before any vSphere call, with what to do.
 * (Migrating older outputs through the dynamic provider is in test/migration/state-migration.e2e.test.ts.)
 */
import { ProviderHost, STATE_VERSION_PROPERTY } from '../../pulumi-component/provider-host';

const neverConnects = () => Promise.reject(new Error('the test must not reach vSphere'));

it('GIVEN outputs stored by a newer vic-iac WHEN diffed THEN the error says which versions and to upgrade vic-iac, before any vSphere call', async () => {
  const host = new ProviderHost(neverConnects);
  host.configure(() => undefined);
  const olds = { name: 'vch-demo', [STATE_VERSION_PROPERTY]: 9 };
  await expect(host.diff('virtual_container_host', 'resgroup-9', olds, { name: 'vch-demo' })).rejects.toThrow(
    "vic: the state of virtual_container_host was written with schema version 9; this vic-iac knows versions up to 1; a newer vic-iac wrote this stack's state: upgrade the vic-iac package of this program",
  );
});
