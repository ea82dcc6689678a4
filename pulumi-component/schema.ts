/**
 * The Pulumi package schema of the `vic` provider (pulumi-resource-vic), derived from the same
 * declarations in src/resources the Terraform provider and the TypeScript classes use: the provider
 * serves it over GetSchema, and `pulumi package gen-sdk` makes the Python (or any) SDK from it.
 *
 *   npx tsx pulumi-component/schema.ts > schema.json
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttrType, Attribute, ResourceDeclaration, Schema, camelCase, connectionSchema, declarations, holdsSensitive } from '../src/resources';

export const PACKAGE_NAME = 'vic';
/** Type tokens are `vic:index:<ClassName>`, the class names of the TypeScript resources. */
export const TOKEN_PREFIX = `${PACKAGE_NAME}:index:`;

/** The provider version is the package's (the schema and the engine ship together). */
export function packageVersion(): string {
  for (const dir of [join(__dirname, '..'), join(__dirname, '../..')]) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // compiled layout (dist/pulumi-component): package.json is one level further up
    }
  }
  throw new Error(`vic: cannot find vic-iac's package.json above ${__dirname}`);
}

export function tokenFor(decl: ResourceDeclaration): string {
  return `${TOKEN_PREFIX}${decl.className}`;
}

/** The declaration a type token names, or undefined. */
export function declarationForToken(token: string): ResourceDeclaration | undefined {
  return declarations.find((d) => tokenFor(d) === token);
}

type SchemaType = Record<string, unknown>;

function pascal(name: string): string {
  const c = camelCase(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

/** Collects the named object types (Pulumi schemas have no anonymous objects) while mapping types. */
class TypeCollector {
  readonly types: Record<string, SchemaType> = {};

  typeOf(type: AttrType, name: string): SchemaType {
    switch (type.kind) {
      case 'string':
      case 'number':
        return { type: type.kind };
      case 'bool':
        return { type: 'boolean' };
      case 'list':
      case 'set':
        return { type: 'array', items: this.typeOf(type.element, name) };
      case 'map':
        return { type: 'object', additionalProperties: this.typeOf(type.element, name) };
      case 'object': {
        const token = `${TOKEN_PREFIX}${name}`;
        const props = this.properties(type.attributes, name, () => true);
        this.types[token] = {
          type: 'object',
          properties: props,
          required: Object.entries(type.attributes)
            .filter(([, a]) => a.required)
            .map(([n]) => camelCase(n)),
        };
        return { $ref: `#/types/${token}` };
      }
    }
  }

  properties(schema: Schema, owner: string, keep: (a: Attribute) => boolean): Record<string, SchemaType> {
    const out: Record<string, SchemaType> = {};
    for (const [name, a] of Object.entries(schema)) {
      if (name === 'id' || !keep(a)) continue;
      const prop: SchemaType = { ...this.typeOf(a.type, owner + pascal(name)), description: a.description };
      if (holdsSensitive(a)) prop.secret = true;
      if (a.default !== undefined && a.default !== null && typeof a.default !== 'object') prop.default = a.default;
      if (a.forceNew) prop.willReplaceOnChanges = true;
      out[camelCase(name)] = prop;
    }
    return out;
  }
}

function isInput(a: Attribute): boolean {
  return a.required === true || a.optional === true;
}

/** The package schema, as an object (JSON.stringify it for GetSchema). */
export function packageSchema(decls: readonly ResourceDeclaration[] = declarations): Record<string, unknown> {
  const collector = new TypeCollector();
  const resources: Record<string, unknown> = {};
  for (const decl of decls) {
    const attrs = Object.entries(decl.schema).filter(([n]) => n !== 'id');
    resources[tokenFor(decl)] = {
      description: `${decl.description}\n\n## Import\n\n${decl.docs.importHelp}`,
      inputProperties: collector.properties(decl.schema, decl.className, isInput),
      requiredInputs: attrs.filter(([, a]) => a.required).map(([n]) => camelCase(n)),
      properties: collector.properties(decl.schema, decl.className, () => true),
      required: attrs.filter(([, a]) => a.required || a.computed || a.default !== undefined).map(([n]) => camelCase(n)),
    };
  }
  const config: Record<string, SchemaType> = {};
  for (const [name, a] of Object.entries(connectionSchema)) {
    config[camelCase(name)] = { ...collector.typeOf(a.type, pascal(name)), description: a.description, ...(a.sensitive ? { secret: true } : {}) };
  }
  return {
    name: PACKAGE_NAME,
    displayName: 'vSphere Integrated Containers',
    version: packageVersion(),
    description: 'Container VMs, their images and virtual container hosts on vSphere (vic-iac).',
    keywords: ['pulumi', 'vsphere', 'containers', 'kind/native'],
    license: 'Apache-2.0',
    config: { variables: config },
    provider: { description: 'The vic provider: how to reach vSphere.', inputProperties: config },
    resources,
    types: collector.types,
    language: { python: { packageName: 'pulumi_vic', respectSchemaVersion: true }, nodejs: { packageName: '@vic-iac/pulumi-vic' } },
  };
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(packageSchema(), null, 2)}\n`);
}
