/**
 * The Terraform schema is derived from src/resources, attribute by attribute. These tests walk every
 * declared attribute and check the mapping rules and Terraform's own schema validity rules
 * (configschema/internal_validate.go), so a new attribute cannot slip through unmapped.
 */
import { Attribute, ResourceDeclaration, Schema, connectionSchema, dataSourceSchema, declarations, t } from '../../src/resources';
import {
  attributePathSteps,
  buildProviderSchemas,
  ctyTypeOf,
  providerSchemaJson,
  providerSchemas,
  TfAttribute,
  TfBlock,
  TfNestedBlock,
} from '../../provider/schema';

const schemas = providerSchemas();

function everyAttribute(schema: Schema, prefix = ''): [string, Attribute][] {
  return Object.entries(schema).flatMap(([name, attr]) => [
    [`${prefix}${name}`, attr] as [string, Attribute],
    ...(attr.type.kind === 'object' ? everyAttribute(attr.type.attributes, `${prefix}${name}.`) : []),
  ]);
}

function findInBlock(block: TfBlock, path: string[]): TfAttribute | TfNestedBlock | undefined {
  const [head, ...rest] = path;
  if (rest.length === 0) return block.attributes.find((a) => a.name === head) ?? block.block_types.find((b) => b.type_name === head);
  const nested = block.block_types.find((b) => b.type_name === head);
  return nested ? findInBlock(nested.block, rest) : undefined;
}

describe('resource and data source names', () => {
  it('GIVEN the declarations WHEN mapped THEN the contract names exist (vic_<type>)', () => {
    expect([...schemas.resources.keys()]).toEqual(['vic_virtual_container_host', 'vic_image', 'vic_volume', 'vic_container_vm']);
    expect([...schemas.dataSources.keys()]).toEqual(['vic_virtual_container_host', 'vic_image']);
  });

  it('GIVEN a resource WHEN mapped THEN its schema version is the declaration version', () => {
    for (const d of declarations) expect(schemas.resources.get(`vic_${d.type}`)!.tfSchema.version).toBe(d.schemaVersion);
  });
});

describe.each(declarations.map((d): [string, ResourceDeclaration] => [d.type, d]))('resource vic_%s', (_type, d) => {
  const block = schemas.resources.get(`vic_${d.type}`)!.tfSchema.block;
  it.each(everyAttribute(d.schema))('GIVEN attribute %s WHEN mapped THEN its flags follow the declaration', (path, attr) => {
    const mapped = findInBlock(block, path.split('.'));
    expect(mapped).toBeDefined();
    if (attr.block) {
      // An object declared as a block renders as a nested block (nesting SINGLE, 0 or 1 items); a list of objects as repeated blocks (LIST, unbounded).
      if (attr.type.kind === 'list') expect(mapped).toMatchObject({ nesting: 'LIST', min_items: 0, max_items: 0 });
      else expect(mapped).toMatchObject({ nesting: 'SINGLE', min_items: attr.required ? 1 : 0, max_items: attr.required ? 1 : 0 });
      return;
    }
    const a = mapped as TfAttribute;
    expect(JSON.parse(a.type.toString())).toEqual(ctyTypeOf(attr.type));
    expect(a.required).toBe(attr.required === true);
    expect(a.sensitive).toBe(attr.sensitive === true);
    // A default is filled in by the plan, which Terraform allows only for computed attributes.
    expect(a.computed).toBe(attr.computed === true || (attr.default !== undefined && !attr.required));
    expect(a.optional).toBe(attr.optional === true);
  });

  it("GIVEN the mapped block WHEN checked against Terraform's schema rules THEN it is valid", () => {
    const check = (b: TfBlock) => {
      for (const a of b.attributes) {
        expect(a.name).toMatch(/^[a-z0-9_]+$/);
        expect(a.required || a.optional || a.computed).toBe(true);
        expect(a.required && (a.optional || a.computed)).toBe(false);
      }
      for (const nb of b.block_types) {
        expect(nb.min_items).toBe(nb.max_items);
        check(nb.block);
      }
    };
    check(block);
  });
});

describe('data sources', () => {
  it.each(declarations.filter((d) => d.dataSource).map((d): [string, ResourceDeclaration] => [d.type, d]))(
    'GIVEN the %s data source WHEN mapped THEN lookup arguments are required, scope arguments optional, and everything else computed',
    (_type, d) => {
      const ds = dataSourceSchema(d);
      const wire = new Map(schemas.dataSources.get(`vic_${d.type}`)!.tfSchema.block.attributes.map((a) => [a.name, a]));
      for (const [name, attr] of Object.entries(ds)) {
        if (d.dataSource!.lookup.includes(name)) {
          expect(attr.computed).toBeFalsy();
          expect(attr.required).toBe(true);
          expect(wire.get(name)).toMatchObject({ required: true, optional: false, computed: false });
        } else if (d.dataSource!.scope?.includes(name)) {
          expect(attr).toMatchObject({ optional: true });
          expect(wire.get(name)).toMatchObject({ required: false, optional: true, computed: false });
        } else {
          expect(attr).toMatchObject({ computed: true });
          expect(attr.required || attr.optional).toBeFalsy();
        }
      }
      for (const [name, attr] of wire) {
        if (!d.dataSource!.lookup.includes(name) && !d.dataSource!.scope?.includes(name))
          expect(attr).toMatchObject({ required: false, optional: false, computed: true });
      }
      // No nested blocks in a data source: blocks cannot be computed.
      expect(schemas.dataSources.get(`vic_${d.type}`)!.tfSchema.block.block_types).toEqual([]);
    },
  );
});

describe('data source lookups', () => {
  it('GIVEN a lookup argument that is not an attribute WHEN mapped THEN it fails naming the data source, the argument and the known attributes', () => {
    const image = declarations.find((d) => d.type === 'image')!;
    const broken: ResourceDeclaration = { ...image, dataSource: { description: 'x', lookup: ['reference', 'tag'] } };
    expect(() => dataSourceSchema(broken)).toThrow(
      /data source vic_image: lookup arguments "tag" are not attributes of the resource \(known: id, vch_id, reference/,
    );
  });
});

describe('provider configuration', () => {
  const block = schemas.provider.tfSchema.block;
  it('GIVEN the connection schema WHEN mapped THEN every argument is optional (environment fallback) and the password sensitive', () => {
    expect(block.attributes.map((a) => a.name).sort()).toEqual(Object.keys(connectionSchema).sort());
    for (const a of block.attributes) {
      expect(a).toMatchObject({ optional: true, required: false, computed: false, sensitive: connectionSchema[a.name].sensitive === true });
      for (const env of connectionSchema[a.name].env ?? []) expect(a.description).toContain(env);
    }
    expect(block.attributes.filter((a) => a.sensitive).map((a) => a.name)).toEqual(['password']);
  });
});

describe('attribute paths', () => {
  const type = ['object', { env: ['map', 'string'], command: ['list', 'string'], auth: ['object', { password: 'string' }] }] as const;
  it.each<[string, (string | number)[], object[]]>([
    ['a map key', ['env', '1BAD'], [{ attribute_name: 'env' }, { element_key_string: '1BAD' }]],
    ['a list index', ['command', 1], [{ attribute_name: 'command' }, { element_key_int: 1 }]],
    ['a nested block attribute', ['auth', 'password'], [{ attribute_name: 'auth' }, { attribute_name: 'password' }]],
  ])('GIVEN %s WHEN converted THEN the step kinds follow the type', (_label, path, steps) => {
    expect(attributePathSteps(type, path)).toEqual(steps);
  });
});

describe('providers schema -json without terraform', () => {
  it('GIVEN the provider WHEN its schema JSON is produced THEN it has the shape `terraform providers schema -json` prints', () => {
    const json = providerSchemaJson() as {
      provider_schemas: Record<string, { resource_schemas: Record<string, { block: { attributes: Record<string, object>; block_types?: object } }> }>;
    };
    const vic = json.provider_schemas['registry.terraform.io/vic-iac/vic'];
    expect(vic.resource_schemas.vic_image.block.attributes.reference).toMatchObject({ type: 'string', required: true });
    expect(vic.resource_schemas.vic_image.block.block_types).toMatchObject({ registry_auth: { nesting_mode: 'single' } });
  });

  it('GIVEN a synthetic declaration WHEN mapped THEN nothing but the declaration decides the schema', () => {
    const synthetic: ResourceDeclaration = {
      type: 'image',
      className: 'Thing',
      description: 'A thing.',
      schemaVersion: 3,
      migrations: {},
      schema: { id: { type: t.string, computed: true, description: 'Id.' }, size: { type: t.number, optional: true, default: 2, description: 'Size.' } },
      docs: { creates: '', importHelp: '', example: '' },
    };
    const built = buildProviderSchemas([synthetic]);
    expect(built.resources.get('vic_image')!.tfSchema.version).toBe(3);
    expect(built.resources.get('vic_image')!.tfSchema.block.attributes.map((a) => [a.name, a.optional, a.computed])).toEqual([
      ['id', false, true],
      ['size', true, true],
    ]);
    expect(built.dataSources.size).toBe(0);
  });
});
