/**
 * The provider process's translation layer, on its pure paths: connection settings from stack
 * config and env, and `check` (schema validation reported with Pulumi property paths). Its vSphere
 * paths (diff, create, read, update, delete, import) run in test/pulumi against the simulator.
 */
import { PULUMI_UNKNOWN } from '../../pulumi-component/attribute-mapping';
import { ProviderHost, connectionFromConfig } from '../../pulumi-component/provider-host';

const neverConnects = () => Promise.reject(new Error('the test must not reach vSphere'));

describe('connectionFromConfig', () => {
  it.each([
    [
      'stack config only',
      { 'vic:vsphereServer': 'vc.example.com', 'vic:user': 'admin', 'vic:password': 's3cret' },
      {},
      { vsphere_server: 'vc.example.com', user: 'admin', password: 's3cret' },
    ],
    [
      'env only (VSPHERE_*)',
      {},
      { VSPHERE_SERVER: 'env.example.com', VSPHERE_USER: 'u', VSPHERE_PASSWORD: 'p', VSPHERE_ALLOW_UNVERIFIED_SSL: 'true' },
      { vsphere_server: 'env.example.com', user: 'u', password: 'p', allow_unverified_ssl: true },
    ],
    ['config wins over env', { 'vic:vsphereServer': 'config.example.com' }, { VSPHERE_SERVER: 'env.example.com' }, { vsphere_server: 'config.example.com' }],
    ['the thumbprint key', { 'vic:thumbprint': 'AA:BB' }, {}, { thumbprint: 'AA:BB' }],
  ] as const)('GIVEN %s (config %j, env %j) WHEN read THEN the connection attributes are %j', (_what, config, env, expected) => {
    const read = (key: string) => (config as Record<string, string>)[key];
    expect(connectionFromConfig(read, env)).toEqual(expected);
  });
});

describe('ProviderHost.check', () => {
  const host = new ProviderHost(neverConnects);

  it('GIVEN valid args WHEN checked THEN no failures and the inputs are kept as given', () => {
    const news = { vchId: 'resgroup-8', imageId: 'sha256:' + 'a'.repeat(64), name: 'web-1', memoryMb: 256, __provider: 'code' };
    expect(host.check('container_vm', news)).toEqual({ inputs: news, failures: [] });
  });

  it('GIVEN several bad args WHEN checked THEN every problem comes back at once, each at its Pulumi property path', () => {
    const result = host.check('container_vm', { vchId: 'resgroup-8', imageId: 'not-a-digest', name: 'web-1', memoryMb: 5, powerState: 'paused' });
    expect(result.failures?.map((f) => f.property).sort()).toEqual(['imageId', 'memoryMb', 'powerState']);
    for (const f of result.failures ?? []) expect(f.reason.length).toBeGreaterThan(10);
  });

  it('GIVEN a nested sensitive arg missing WHEN checked THEN the failure names registryAuth.password', () => {
    const result = host.check('image', { vchId: 'resgroup-8', reference: 'r.example/app:1', registryAuth: { username: 'u' } });
    expect(result.failures?.map((f) => f.property)).toEqual(['registryAuth.password']);
  });

  it('GIVEN args not known yet (preview) WHEN checked THEN they pass', () => {
    const result = host.check('container_vm', { vchId: PULUMI_UNKNOWN, imageId: PULUMI_UNKNOWN, name: 'web-1' });
    expect(result.failures).toEqual([]);
  });
});

describe('ProviderHost without connection settings', () => {
  it('GIVEN no vic:* config and no VSPHERE_* env WHEN a diff needs vSphere THEN it fails naming every missing key and how to set it', async () => {
    const host = new ProviderHost(neverConnects);
    const saved = { ...process.env };
    for (const key of Object.keys(process.env)) if (key.startsWith('VSPHERE_')) delete process.env[key];
    try {
      host.configure(() => undefined);
      await expect(host.diff('virtual_container_host', 'resgroup-9', {}, { name: 'v' })).rejects.toThrow(
        /cannot connect to vSphere:\n(.|\n)*vic:vsphereServer(.|\n)*vic:user(.|\n)*vic:password(.|\n)*pulumi config set vic:<name>/,
      );
    } finally {
      process.env = saved;
    }
  });
});
