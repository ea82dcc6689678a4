/**
 * Pulumi names and values derived from the resource declarations: args are the camelCase of the
 * Terraform attribute names, `replaces` come from forceNew and secret outputs from sensitive. Pure
 * data, no Pulumi and no vSphere imports, so both the program side and the provider process use it.
 */
import { AttrPath, AttrType, Attrs, ResourceDeclaration, Schema, UNKNOWN, Value, camelCase, holdsSensitive, isUnknown } from '../src/resources';

/** The Pulumi ID is the resource's `id` attribute; it is never a separate output property. */
const ID = 'id';

/** Where Pulumi keeps a dynamic resource's serialized provider among its properties. */
export const PROVIDER_PROPERTY = '__provider';
/**
 * Carries the `import` resource option to the provider's create(). Pulumi's own import step reads
 * with no properties, so a dynamic provider cannot serve it (pulumi/pulumi#16175).
 */
export const IMPORT_PROPERTY = 'vicImportId';
/**
 * The resource's name in the program. Dynamic providers are not told which resource they serve, and
 * the provider process must tell two resources that claim one vSphere object (see src/engine/claims.ts).
 */
export const RESOURCE_NAME_PROPERTY = 'vicResourceName';
/**
 * The program's project and stack (`<project>/<stack>`): with the resource's name, what a create
 * records on the object it makes, so that the same resource's create-first replacement in a later
 * `pulumi up` takes the object over and another stack's create is refused (PlanOptions.createdFor).
 */
export const STACK_PROPERTY = 'vicStack';

/** Attributes a user sets (required or optional), as Pulumi arg names. */
export function pulumiInputNames(decl: ResourceDeclaration): string[] {
  return Object.entries(decl.schema)
    .filter(([name, a]) => name !== ID && (a.required || a.optional))
    .map(([name]) => camelCase(name));
}

/** Every attribute but `id`, as Pulumi output property names. */
export function pulumiOutputNames(decl: ResourceDeclaration): string[] {
  return Object.keys(decl.schema)
    .filter((name) => name !== ID)
    .map(camelCase);
}

/** Args whose change replaces the object (forceNew), as Pulumi names. */
export function pulumiReplaces(decl: ResourceDeclaration): string[] {
  return Object.entries(decl.schema)
    .filter(([, a]) => a.forceNew)
    .map(([name]) => camelCase(name));
}

/**
 * Top-level properties that hold a sensitive value, themselves or nested (registry_auth.password):
 * Pulumi marks secrets per top-level property, so the whole object becomes a secret.
 */
export function pulumiSecretNames(decl: ResourceDeclaration): string[] {
  return Object.entries(decl.schema)
    .filter(([, a]) => holdsSensitive(a))
    .map(([name]) => camelCase(name));
}

/** Stack config keys of the connection: `vic:` + the camelCase attribute name (vic:vsphereServer). */
export function connectionConfigKey(attribute: string): string {
  return `vic:${camelCase(attribute)}`;
}

// The dynamic-provider host sends values not known yet (preview) as this sentinel string
// (@pulumi/pulumi runtime/rpc `unknownValue`); the engine's symbol for them is UNKNOWN.
export const PULUMI_UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

function snakeNameFor(schema: Schema, pulumiName: string): string | undefined {
  return Object.keys(schema).find((name) => camelCase(name) === pulumiName);
}

function toEngineValue(type: AttrType | undefined, v: unknown): Value {
  if (v === PULUMI_UNKNOWN) return UNKNOWN;
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map((e) => toEngineValue(type && 'element' in type ? type.element : undefined, e));
  if (typeof v === 'object') {
    if (type?.kind === 'object') return toEngineAttrs(type.attributes, v as Record<string, unknown>);
    // Map keys are user data (environment variable names, labels): never renamed.
    const out: Attrs = {};
    for (const [k, e] of Object.entries(v)) out[k] = toEngineValue(type && 'element' in type ? type.element : undefined, e);
    return out;
  }
  return v as Value;
}

/**
 * Pulumi property values → engine attributes (snake_case). Properties the schema does not know keep
 * their name, so validation reports them with the closest known one. Undefined values are left out.
 */
export function toEngineAttrs(schema: Schema, values: Record<string, unknown>, skip: readonly string[] = []): Attrs {
  const out: Attrs = {};
  for (const [key, v] of Object.entries(values)) {
    if (skip.includes(key) || v === undefined) continue;
    const name = snakeNameFor(schema, key) ?? key;
    out[name] = toEngineValue(schema[name]?.type, v);
  }
  return out;
}

function toPulumiValue(type: AttrType | undefined, v: Value): unknown {
  if (isUnknown(v)) return undefined;
  if (Array.isArray(v)) return v.map((e) => toPulumiValue(type && 'element' in type ? type.element : undefined, e));
  if (v !== null && typeof v === 'object') {
    if (type?.kind === 'object') return toPulumiValues(type.attributes, v);
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[k] = toPulumiValue(type && 'element' in type ? type.element : undefined, e);
    return out;
  }
  return v;
}

/** Engine attributes → Pulumi property values (camelCase); unknown values are left out. */
export function toPulumiValues(schema: Schema, attrs: Attrs, skip: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(attrs)) {
    if (skip.includes(name)) continue;
    const value = toPulumiValue(schema[name]?.type, v);
    if (value !== undefined) out[camelCase(name)] = value;
  }
  return out;
}

/**
 * An engine attribute path as a Pulumi property path: `registryAuth.password`, `networks[1]`.
 * Attribute names are camelCased; map keys (user data) are kept as written.
 */
export function pulumiPath(schema: Schema, path: AttrPath): string {
  let out = '';
  let attributes: Schema | undefined = schema;
  let type: AttrType | undefined;
  for (const step of path) {
    if (typeof step === 'number') {
      out += `[${step}]`;
      type = type && 'element' in type ? type.element : undefined;
      continue;
    }
    const isAttribute: boolean = attributes !== undefined && step in attributes;
    const shown = isAttribute ? camelCase(step) : step;
    out += out === '' ? shown : `.${shown}`;
    type = isAttribute ? attributes![step].type : type && 'element' in type ? type.element : undefined;
    attributes = type?.kind === 'object' ? type.attributes : undefined;
  }
  return out;
}

const wordsBySchema = new WeakMap<Schema, RegExp | null>();

/** Every attribute name of a schema, nested objects' included, that camelCase changes. */
function renamedAttributes(schema: Schema, out: Set<string> = new Set()): Set<string> {
  for (const [name, attr] of Object.entries(schema)) {
    if (camelCase(name) !== name) out.add(name);
    let type: AttrType | undefined = attr.type;
    while (type && 'element' in type) type = type.element;
    if (type?.kind === 'object') renamedAttributes(type.attributes, out);
  }
  return out;
}

/**
 * The engine's messages name attributes as Terraform does (`memory_limit_mb = -7 is below…`); a
 * Pulumi program calls them by their arg names (`memoryLimitMb`), so its errors do too.
 */
export function inPulumiWords(schema: Schema, text: string): string {
  let words = wordsBySchema.get(schema);
  if (words === undefined) {
    const names = [...renamedAttributes(schema)].sort((a, b) => b.length - a.length);
    words = names.length > 0 ? new RegExp(`\\b(${names.join('|')})\\b`, 'g') : null;
    wordsBySchema.set(schema, words);
  }
  return words ? text.replace(words, (name) => camelCase(name)) : text;
}
