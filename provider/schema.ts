/**
 * The Terraform schema, derived from the resource declarations in src/resources: nothing here names
 * an attribute. One `TerraformKind` per resource, data source and the provider block carries the
 * schema in the protocol's shape, its cty object type, and the DSL schema used to validate config.
 */
import { AttrPath, AttrType, Attribute, ResourceDeclaration, Schema, connectionSchema, dataSourceSchema, declarations } from '../src/resources';
import { CtyType } from './cty';

export const PROVIDER_TYPE = 'vic';
export const PROVIDER_SOURCE = 'registry.terraform.io/vic-iac/vic';

/** Schema.Attribute / Block / NestedBlock as @grpc/proto-loader takes them (enums as strings). */
export interface TfAttribute {
  readonly name: string;
  readonly type: Buffer;
  readonly description: string;
  readonly description_kind: 'MARKDOWN';
  readonly required: boolean;
  readonly optional: boolean;
  readonly computed: boolean;
  readonly sensitive: boolean;
}

export interface TfNestedBlock {
  readonly type_name: string;
  readonly block: TfBlock;
  readonly nesting: 'SINGLE' | 'LIST';
  readonly min_items: number;
  readonly max_items: number;
}

export interface TfBlock {
  readonly version: number;
  readonly attributes: TfAttribute[];
  readonly block_types: TfNestedBlock[];
  readonly description: string;
  readonly description_kind: 'MARKDOWN';
}

export interface TfSchema {
  readonly version: number;
  readonly block: TfBlock;
}

export interface TerraformKind {
  /** vic_container_vm, vic_image, ... ; the provider block is "provider". */
  readonly typeName: string;
  readonly declaration?: ResourceDeclaration;
  /** The DSL schema Terraform sees (for data sources: lookup arguments + computed outputs). */
  readonly schema: Schema;
  readonly tfSchema: TfSchema;
  /** The cty object type of the whole block, for encoding and decoding values. */
  readonly type: CtyType;
}

export function ctyTypeOf(type: AttrType): CtyType {
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return type.kind;
    case 'list':
    case 'set':
    case 'map':
      return [type.kind, ctyTypeOf(type.element)];
    case 'object':
      return ['object', objectTypeOf(type.attributes)];
  }
}

function objectTypeOf(schema: Schema): { [name: string]: CtyType } {
  const out: { [name: string]: CtyType } = {};
  for (const [name, attr] of Object.entries(schema)) out[name] = ctyTypeOf(attr.type);
  return out;
}

export function blockTypeOf(schema: Schema): CtyType {
  return ['object', objectTypeOf(schema)];
}

function isBlock(attr: Attribute): attr is Attribute & { type: { kind: 'object'; attributes: Schema } } {
  return attr.block === true && attr.type.kind === 'object';
}

/** A list of objects with `block: true`: repeated HCL blocks, whose optional attributes may be left out (an object-typed attribute's may not). */
function isBlockList(attr: Attribute): attr is Attribute & { type: { kind: 'list'; element: { kind: 'object'; attributes: Schema } } } {
  return attr.block === true && attr.type.kind === 'list' && attr.type.element.kind === 'object';
}

/**
 * Terraform plans a value for an optional attribute only if it is also computed, so an attribute
 * with a default is optional + computed: the provider fills the default in when config leaves it null.
 */
export function isComputed(attr: Attribute): boolean {
  return attr.computed === true || (attr.default !== undefined && !attr.required);
}

function describeAttr(attr: Attribute): string {
  const env = attr.env && attr.env.length > 0 ? ` Environment variable: \`${attr.env.join('`, `')}\`.` : '';
  const dflt = attr.default !== undefined ? ` Defaults to \`${JSON.stringify(attr.default)}\`.` : '';
  return `${attr.description}${dflt}${env}`;
}

export function tfBlockOf(schema: Schema, description = '', version = 0): TfBlock {
  const attributes: TfAttribute[] = [];
  const blockTypes: TfNestedBlock[] = [];
  for (const [name, attr] of Object.entries(schema)) {
    if (isBlock(attr)) {
      const n = attr.required ? 1 : 0;
      blockTypes.push({ type_name: name, block: tfBlockOf(attr.type.attributes, attr.description), nesting: 'SINGLE', min_items: n, max_items: n });
      continue;
    }
    if (isBlockList(attr)) {
      blockTypes.push({ type_name: name, block: tfBlockOf(attr.type.element.attributes, attr.description), nesting: 'LIST', min_items: 0, max_items: 0 });
      continue;
    }
    attributes.push({
      name,
      type: Buffer.from(JSON.stringify(ctyTypeOf(attr.type))),
      description: describeAttr(attr),
      description_kind: 'MARKDOWN',
      required: attr.required === true,
      optional: attr.optional === true && !attr.required,
      computed: isComputed(attr),
      sensitive: attr.sensitive === true,
    });
  }
  return { version, attributes, block_types: blockTypes, description, description_kind: 'MARKDOWN' };
}

function kind(typeName: string, schema: Schema, description: string, version: number, declaration?: ResourceDeclaration): TerraformKind {
  return { typeName, declaration, schema, tfSchema: { version, block: tfBlockOf(schema, description, version) }, type: blockTypeOf(schema) };
}

export interface ProviderSchemas {
  readonly provider: TerraformKind;
  readonly resources: ReadonlyMap<string, TerraformKind>;
  readonly dataSources: ReadonlyMap<string, TerraformKind>;
}

let cached: ProviderSchemas | undefined;

/** The schemas of the vic provider, from the declarations in src/resources. */
export function providerSchemas(): ProviderSchemas {
  cached ??= buildProviderSchemas(declarations);
  return cached;
}

/** Schemas for any set of declarations (tests use synthetic ones, e.g. to exercise migrations). */
export function buildProviderSchemas(decls: readonly ResourceDeclaration[]): ProviderSchemas {
  const resources = new Map<string, TerraformKind>();
  const dataSources = new Map<string, TerraformKind>();
  for (const d of decls) {
    const name = `${PROVIDER_TYPE}_${d.type}`;
    resources.set(name, kind(name, d.schema, d.description, d.schemaVersion, d));
    if (d.dataSource) dataSources.set(name, kind(name, dataSourceSchema(d), d.dataSource.description, 0, d));
  }
  const provider = kind('provider', connectionSchema, 'Connects to vCenter or ESXi. Every argument falls back to its environment variable.', 0);
  return { provider, resources, dataSources };
}

// ---------------------------------------------------------------------------------------------
// Attribute paths

export type TfPathStep = { attribute_name: string } | { element_key_string: string } | { element_key_int: number };

/**
 * A DSL path (names and indexes) as protocol steps. Which step kind a key is depends on the type it
 * indexes: a string key into a map is an element key, into an object an attribute name.
 */
export function attributePathSteps(type: CtyType, path: AttrPath): TfPathStep[] {
  const steps: TfPathStep[] = [];
  let current: CtyType | undefined = type;
  for (const key of path) {
    if (current !== undefined && Array.isArray(current) && current[0] === 'object') {
      steps.push({ attribute_name: String(key) });
      current = (current[1] as { [n: string]: CtyType })[String(key)];
    } else if (current !== undefined && Array.isArray(current) && current[0] === 'map') {
      steps.push({ element_key_string: String(key) });
      current = current[1] as CtyType;
    } else if (typeof key === 'number') {
      steps.push({ element_key_int: key });
      current = Array.isArray(current) && (current[0] === 'list' || current[0] === 'set') ? (current[1] as CtyType) : undefined;
    } else {
      steps.push({ attribute_name: key });
      current = undefined;
    }
  }
  return steps;
}

/** The DSL attribute at a path (through nested objects), for flags such as `sensitive`. */
export function attributeAt(schema: Schema, path: AttrPath): Attribute | undefined {
  let current: Schema | undefined = schema;
  let attr: Attribute | undefined;
  for (const key of path) {
    if (typeof key !== 'string' || current === undefined) return attr;
    attr = current[key];
    if (!attr) return undefined;
    current = attr.type.kind === 'object' ? attr.type.attributes : undefined;
  }
  return attr;
}

// ---------------------------------------------------------------------------------------------
// `terraform providers schema -json`, produced without terraform (CDKTF generation, docs)

interface JsonBlock {
  attributes?: Record<string, Record<string, unknown>>;
  block_types?: Record<string, Record<string, unknown>>;
  description?: string;
  description_kind?: string;
}

function jsonBlock(b: TfBlock): JsonBlock {
  const out: JsonBlock = {};
  if (b.attributes.length > 0) {
    out.attributes = {};
    for (const a of b.attributes) {
      const attr: Record<string, unknown> = { type: JSON.parse(a.type.toString('utf8')) as unknown };
      if (a.description) {
        attr.description = a.description;
        attr.description_kind = 'markdown';
      }
      for (const flag of ['required', 'optional', 'computed', 'sensitive'] as const) if (a[flag]) attr[flag] = true;
      out.attributes[a.name] = attr;
    }
  }
  if (b.block_types.length > 0) {
    out.block_types = {};
    for (const nb of b.block_types) {
      const entry: Record<string, unknown> = { nesting_mode: nb.nesting.toLowerCase(), block: jsonBlock(nb.block) };
      if (nb.min_items) entry.min_items = nb.min_items;
      if (nb.max_items) entry.max_items = nb.max_items;
      out.block_types[nb.type_name] = entry;
    }
  }
  if (b.description) {
    out.description = b.description;
    out.description_kind = 'markdown';
  }
  return out;
}

/** The same document `terraform providers schema -json` prints for this provider. */
export function providerSchemaJson(): object {
  const s = providerSchemas();
  const schemas = (m: ReadonlyMap<string, TerraformKind>) =>
    Object.fromEntries([...m].map(([name, k]) => [name, { version: k.tfSchema.version, block: jsonBlock(k.tfSchema.block) }]));
  return {
    format_version: '1.0',
    provider_schemas: {
      [PROVIDER_SOURCE]: {
        provider: { version: 0, block: jsonBlock(s.provider.tfSchema.block) },
        resource_schemas: schemas(s.resources),
        data_source_schemas: schemas(s.dataSources),
      },
    },
  };
}
