/**
 * A data source's schema, derived from its resource's declaration: the lookup arguments are required
 * inputs (a lookup that may be left out cannot say which object it means), the scope arguments are
 * optional inputs that narrow where to look (left out: the provider default, or the only one), and
 * every other attribute is a computed output. The Terraform provider and the docs both use this.
 */
import type { ResourceDeclaration } from './definition';
import type { Attribute, Schema } from './schema';

export function dataSourceSchema(d: ResourceDeclaration): Schema {
  const lookup = d.dataSource?.lookup ?? [];
  const scope = d.dataSource?.scope ?? [];
  const unknown = [...lookup, ...scope].filter((name) => !(name in d.schema));
  if (unknown.length > 0) {
    throw new Error(
      `data source vic_${d.type}: lookup arguments ${unknown.map((n) => `"${n}"`).join(', ')} are not attributes of the resource (known: ${Object.keys(d.schema).join(', ')}); fix dataSource in its declaration`,
    );
  }
  const out: { [name: string]: Attribute } = {};
  for (const [name, attr] of Object.entries(d.schema)) {
    if (lookup.includes(name))
      out[name] = { type: attr.type, description: attr.description, required: true, sensitive: attr.sensitive, validate: attr.validate };
    else if (scope.includes(name))
      out[name] = { type: attr.type, description: attr.description, optional: true, sensitive: attr.sensitive, validate: attr.validate };
    else out[name] = { type: attr.type, description: attr.description, computed: true, sensitive: attr.sensitive };
  }
  return out;
}
