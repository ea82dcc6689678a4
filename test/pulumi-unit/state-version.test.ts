/**
 * The provider host reads the schema version stored among a resource's outputs before it does
 * anything else: older outputs are migrated (storedAttrs), outputs a newer vic-iac wrote are
 * refused before any vSphere call. (The whole path through the dynamic provider against the
 * simulator is in test/migration/state-migration.e2e.test.ts.)
 */
import { PROVIDER_PROPERTY, IMPORT_PROPERTY } from '../../pulumi-component/attribute-mapping';
import { ProviderHost, STATE_VERSION_PROPERTY, storedAttrs } from '../../pulumi-component/provider-host';
import { virtualContainerHost } from '../../src/resources';
import { installVchSchemaV2 } from '../helpers/schema-v2';

const neverConnects = () => Promise.reject(new Error('the test must not reach vSphere'));

it('GIVEN outputs stored by a newer vic-iac WHEN diffed THEN the error says which versions and to upgrade vic-iac, before any vSphere call', async () => {
  const host = new ProviderHost(neverConnects);
  host.configure(() => undefined);
  const olds = { name: 'vch-demo', [STATE_VERSION_PROPERTY]: 9 };
  await expect(host.diff('virtual_container_host', 'resgroup-9', olds, { name: 'vch-demo' })).rejects.toThrow(
    "vic: the state of virtual_container_host was written with schema version 9; this vic-iac knows versions up to 1; a newer vic-iac wrote this stack's state: upgrade the vic-iac package of this program",
  );
});

it('GIVEN outputs at the current version WHEN loaded THEN they are the engine attributes, without the bookkeeping properties', () => {
  const props = { name: 'vch-demo', cpuLimitMhz: 100, [STATE_VERSION_PROPERTY]: 1, [PROVIDER_PROPERTY]: 'code', [IMPORT_PROPERTY]: 'resgroup-9' };
  expect(storedAttrs(virtualContainerHost, props)).toEqual({ name: 'vch-demo', cpu_limit_mhz: 100 });
});

describe('GIVEN virtual_container_host at schema version 2 (test-only: v1 called force_destroy "force")', () => {
  let uninstall: () => void;
  beforeEach(() => (uninstall = installVchSchemaV2()));
  afterEach(() => uninstall());

  it.each([
    ['without a version (outputs from before versions were stored)', {}],
    ['stating version 1', { [STATE_VERSION_PROPERTY]: 1 }],
  ])('WHEN outputs %s are loaded THEN they are migrated, and properties the schema lost keep their snake_case name', (_what, version) => {
    const props = {
      name: 'vch-demo',
      memoryLimitMb: 512,
      force: true,
      droppedSetting: 'x',
      [PROVIDER_PROPERTY]: 'code',
      [IMPORT_PROPERTY]: 'resgroup-9',
      ...version,
    };
    expect(storedAttrs(virtualContainerHost, props)).toEqual({ name: 'vch-demo', memory_limit_mb: 512, force_destroy: true, dropped_setting: 'x' });
  });
});
