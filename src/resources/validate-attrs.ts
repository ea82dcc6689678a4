/**
 * Schema-driven validation of user input: type checks, required and unknown attributes, defaults and
 * each attribute's own validators. Collects every problem with its attribute path; never throws.
 */
import { problem } from './validators';
import { nearestName } from './nearest-name';
import { AttrPath, AttrType, Attrs, Problem, Schema, Validator, Value, containsUnknown, formatPath, isUnknown, typeName } from './schema';

export interface Validated {
  /** The input with defaults filled in; only meaningful when there are no error problems. */
  readonly attrs: Attrs;
  readonly problems: Problem[];
}

function describeValue(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const TYPE_TODO: Record<AttrType['kind'], string> = {
  string: 'Write it as text.',
  number: 'Write a number, such as 1024.',
  bool: 'Write true or false.',
  list: 'Write a list of values, such as ["a", "b"].',
  set: 'Write a list of values, such as ["a", "b"].',
  map: 'Write a map of keys to values.',
  object: 'Write it as a block of its own arguments.',
};

function typeProblem(path: AttrPath, type: AttrType, v: Value): Problem {
  const name = formatPath(path);
  return problem(path, `Incorrect type for "${name}"`, `${name} must be ${typeName(type)}, got ${describeValue(v)}. ${TYPE_TODO[type.kind]}`);
}

/** Checks a value against a type, recursing into collections and objects. Unknown values pass. */
function checkType(type: AttrType, v: Value, path: AttrPath, out: Problem[]): Value {
  if (v === null || isUnknown(v)) return v;
  switch (type.kind) {
    case 'string':
      if (typeof v === 'string') return v;
      // Terraform and YAML users write numbers where strings are meant (shares: 2000); accept them.
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      out.push(typeProblem(path, type, v));
      return v;
    case 'number':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(v)) return Number(v);
      out.push(typeProblem(path, type, v));
      return v;
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      out.push(typeProblem(path, type, v));
      return v;
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) {
        out.push(typeProblem(path, type, v));
        return v;
      }
      return v.map((e, i) => checkType(type.element, e, [...path, i], out));
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) {
        out.push(typeProblem(path, type, v));
        return v;
      }
      const m: Attrs = {};
      for (const [k, e] of Object.entries(v)) m[k] = checkType(type.element, e, [...path, k], out);
      return m;
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) {
        out.push(typeProblem(path, type, v));
        return v;
      }
      const r = validateAttrs(type.attributes, v as Attrs, path);
      out.push(...r.problems);
      return r.attrs;
    }
  }
}

/**
 * Validates user input (configuration) against a schema. Computed-only attributes may not be set;
 * required ones must be; unknown names are reported with the closest known name.
 */
export function validateAttrs(schema: Schema, input: Attrs, base: AttrPath = []): Validated {
  const problems: Problem[] = [];
  const attrs: Attrs = {};
  const names = Object.keys(schema);
  for (const key of Object.keys(input)) {
    if (!(key in schema)) {
      const path = [...base, key];
      const near = nearestName(key, names);
      problems.push(
        problem(
          path,
          `Unsupported argument "${formatPath(path)}"`,
          `An argument named "${key}" is not expected here.${near ? ` Did you mean "${near}"?` : ''} Known arguments: ${names
            .filter((n) => !schema[n].computed || schema[n].optional)
            .join(', ')}.`,
        ),
      );
    }
  }
  // Checked after every attribute is typed, so a validator can compare its value with its siblings'.
  const toCheck: Array<{ path: AttrPath; value: Value; checks: readonly Validator[] }> = [];
  const typeFailed = new Set<string>();
  for (const [name, attr] of Object.entries(schema)) {
    const path = [...base, name];
    let v: Value | undefined = input[name];
    if (v !== undefined && v !== null && attr.computed && !attr.optional && !attr.required) {
      problems.push(
        problem(
          path,
          `Value for unconfigurable attribute "${formatPath(path)}"`,
          `${formatPath(path)} is computed by vSphere and cannot be set. Remove it from the configuration.`,
        ),
      );
      continue;
    }
    if (v === undefined || v === null) {
      if (attr.required) {
        problems.push(problem(path, `Missing required argument "${formatPath(path)}"`, `The argument "${formatPath(path)}" is required: ${attr.description}`));
        continue;
      }
      if (attr.default !== undefined) v = attr.default;
      else {
        attrs[name] = null;
        continue;
      }
    }
    const before = problems.length;
    const typed = checkType(attr.type, v, path, problems);
    attrs[name] = typed;
    if (problems.length !== before) typeFailed.add(name);
    else if (!isUnknown(typed) && typed !== null && attr.validate) toCheck.push({ path, value: typed, checks: attr.validate });
  }
  const siblings: Attrs = {};
  for (const [name, v] of Object.entries(attrs)) if (!typeFailed.has(name) && !containsUnknown(v)) siblings[name] = v;
  for (const { path, value, checks } of toCheck) for (const check of checks) problems.push(...check(value, path, siblings));
  return { attrs, problems };
}
