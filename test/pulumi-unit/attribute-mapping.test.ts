/** Pulumi names and values derived from the declarations: table-driven, pure. */
import {
  PULUMI_UNKNOWN,
  connectionConfigKey,
  pulumiInputNames,
  pulumiOutputNames,
  pulumiPath,
  pulumiReplaces,
  pulumiSecretNames,
  toEngineAttrs,
  toPulumiValues,
} from '../../pulumi-component/attribute-mapping';
import { Attrs, UNKNOWN, camelCase, connectionSchema, containerVm, declarations, image, virtualContainerHost, volume } from '../../src/resources';

describe('names derived from the declarations', () => {
  it.each(declarations.map((d) => [d.type, d] as const))(
    'GIVEN %s WHEN deriving Pulumi names THEN args, outputs and replaces follow the schema',
    (_type, decl) => {
      const inputs = pulumiInputNames(decl);
      const outputs = pulumiOutputNames(decl);
      const replaces = pulumiReplaces(decl);
      for (const [name, attr] of Object.entries(decl.schema)) {
        const pulumiName = camelCase(name);
        if (name === 'id') {
          // THEN the id is the resource's own, never a property.
          expect(outputs).not.toContain('id');
          continue;
        }
        expect(outputs).toContain(pulumiName);
        expect(inputs.includes(pulumiName)).toBe(Boolean(attr.required || attr.optional));
        expect(replaces.includes(pulumiName)).toBe(Boolean(attr.forceNew));
      }
    },
  );

  it.each([
    [
      'container_vm',
      containerVm,
      [
        'vchId',
        'imageId',
        'name',
        'command',
        'entrypoint',
        'env',
        'secretEnv',
        'workingDir',
        'user',
        'tty',
        'stdinOpen',
        'hostname',
        'networks',
        'diskSizeMb',
        'volumes',
        'ports',
        'ipAddress',
        'gateway',
      ],
    ],
    ['volume', volume, ['vchId', 'name', 'datastore']],
    ['virtual_container_host', virtualContainerHost, ['name', 'datacenter', 'compute', 'datastore', 'imageStorePath']],
    ['image', image, ['vchId', 'reference', 'platform', 'sizeMb']],
  ] as const)('GIVEN %s WHEN deriving replaces THEN exactly the forceNew args replace', (_t, decl, expected) => {
    expect(pulumiReplaces(decl).sort()).toEqual([...expected].sort());
  });

  it.each([
    ['image', image, ['registryAuth']],
    ['container_vm', containerVm, ['secretEnv']],
    ['virtual_container_host', virtualContainerHost, []],
  ] as const)('GIVEN %s WHEN deriving secrets THEN the properties holding sensitive values are %j', (_t, decl, expected) => {
    expect(pulumiSecretNames(decl)).toEqual(expected);
  });

  it('GIVEN the connection schema WHEN naming config keys THEN they are vic:<camelCase>', () => {
    expect(Object.keys(connectionSchema).map(connectionConfigKey)).toEqual(
      expect.arrayContaining(['vic:vsphereServer', 'vic:user', 'vic:password', 'vic:allowUnverifiedSsl', 'vic:thumbprint']),
    );
  });
});

describe('values between Pulumi and the engine', () => {
  it.each([
    [
      'camelCase args become snake attributes; map keys stay as written',
      containerVm.schema,
      { vchId: 'resgroup-8', memoryMb: 256, env: { MY_VAR: '1', lower_case: '2' }, labels: { 'app.kind': 'web' } },
      { vch_id: 'resgroup-8', memory_mb: 256, env: { MY_VAR: '1', lower_case: '2' }, labels: { 'app.kind': 'web' } },
    ],
    [
      'nested object attributes are renamed inside',
      image.schema,
      { reference: 'r/x:1', registryAuth: { username: 'u', password: 'p' } },
      { reference: 'r/x:1', registry_auth: { username: 'u', password: 'p' } },
    ],
    [
      'the preview sentinel becomes UNKNOWN, also inside lists',
      containerVm.schema,
      { vchId: PULUMI_UNKNOWN, networks: ['VM Network', PULUMI_UNKNOWN] },
      { vch_id: UNKNOWN, networks: ['VM Network', UNKNOWN] },
    ],
    ['names the schema does not know are kept for validation to report', containerVm.schema, { memoryMB: 4 }, { memoryMB: 4 }],
    ['undefined values are left out; null stays', containerVm.schema, { user: undefined, hostname: null }, { hostname: null }],
  ])('GIVEN %s', (_what, schema, pulumiValues, attrs) => {
    expect(toEngineAttrs(schema, pulumiValues)).toEqual(attrs);
  });

  it('GIVEN engine state with unknowns WHEN turned into outputs THEN names are camelCase and unknowns are left out', () => {
    const state: Attrs = { id: 'x', vch_id: 'resgroup-8', moid: UNKNOWN, env: { lower_case: 'v' }, ip_addresses: [] };
    expect(toPulumiValues(containerVm.schema, state, ['id'])).toEqual({ vchId: 'resgroup-8', env: { lower_case: 'v' }, ipAddresses: [] });
  });

  it('GIVEN properties to skip WHEN converting THEN __provider never reaches the engine', () => {
    expect(toEngineAttrs(containerVm.schema, { __provider: 'code', name: 'web' }, ['__provider'])).toEqual({ name: 'web' });
  });

  it.each([
    [['registry_auth', 'password'], 'registryAuth.password'],
    [['networks', 1], 'networks[1]'],
    [['env', 'lower_case'], 'env.lower_case'],
    [['memory_mb'], 'memoryMb'],
    [[], ''],
  ] as const)('GIVEN the engine path %j WHEN shown to Pulumi THEN it reads %s', (path, expected) => {
    const schema = path[0] === 'registry_auth' ? image.schema : containerVm.schema;
    expect(pulumiPath(schema, path)).toBe(expected);
  });
});
