/**
 * The attribute DSL: each resource declares its schema once, as data. The Terraform schema, the
 * Pulumi args and `replaces`, the CLI spec format and the docs under docs/resources are derived from
 * these declarations (provider/schema.ts, pulumi-component/generate-types.ts, src/cli/spec.ts,
 * src/resources/docs.ts), and so are the TypeScript types a lifecycle reads its attributes as
 * (`AttrsOf`). The Pulumi and CDKTF bindings are generated files, which tests keep current. Not
 * derived, and written by hand beside a declaration: how a lifecycle maps an attribute to vSphere
 * and back (the ConfigSpec, the markers), and the examples in docs/*.md.
 */

/** Attribute value types. `object` is a nested object; with `block: true` it renders as an HCL block. */
export type AttrType =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'list'; readonly element: AttrType }
  | { readonly kind: 'set'; readonly element: AttrType }
  | { readonly kind: 'map'; readonly element: AttrType }
  | { readonly kind: 'object'; readonly attributes: Schema };

/** The builders keep their argument's type, so `AttrsOf` can tell a list of strings from a map of numbers. */
export const t = {
  string: { kind: 'string' } as const,
  number: { kind: 'number' } as const,
  bool: { kind: 'bool' } as const,
  list: <E extends AttrType>(element: E) => ({ kind: 'list', element }) as const,
  set: <E extends AttrType>(element: E) => ({ kind: 'set', element }) as const,
  map: <E extends AttrType>(element: E) => ({ kind: 'map', element }) as const,
  object: <S extends Schema>(attributes: S) => ({ kind: 'object', attributes }) as const,
};

/** One path step: an attribute name or a list index / map key. */
export type PathStep = string | number;
export type AttrPath = readonly PathStep[];

/** A problem found in user input: where, what, and what to do. Validators return these, never throw. */
export interface Problem {
  readonly path: AttrPath;
  readonly summary: string;
  readonly detail: string;
  readonly severity?: 'error' | 'warning';
}

/** Values as the engine sees them; UNKNOWN stands for "known only after apply" in a plan. */
export const UNKNOWN: unique symbol = Symbol.for('vic-iac.unknown');
export type Unknown = typeof UNKNOWN;
export type Value = string | number | boolean | null | Unknown | Value[] | { [key: string]: Value };
export type Attrs = { [key: string]: Value };

export function isUnknown(v: unknown): v is Unknown {
  return v === UNKNOWN;
}

/** True when a value (or anything inside it) is not yet known. */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === 'object') return Object.values(v).some(containsUnknown);
  return false;
}

/**
 * Validators see a known, non-null value of the attribute's type, and the other attributes of the
 * same object (defaults filled; those with type errors or unknown values left out), so that a rule
 * between two attributes (a reservation within its limit) lives on the attribute it constrains.
 * `rule` says what is allowed, in words the generated docs show.
 */
export type Validator = ((value: Value, path: AttrPath, siblings: Readonly<Attrs>) => Problem[]) & { readonly rule?: string };

export interface Attribute {
  readonly type: AttrType;
  readonly description: string;
  /** Exactly one of required / optional / computed, or optional + computed (a defaulted output). */
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  /** Changing this attribute replaces the object (Terraform RequiresReplace, Pulumi `replaces`). */
  readonly forceNew?: boolean;
  /** The value used when the user leaves an optional attribute out. */
  readonly default?: Value;
  readonly validate?: readonly Validator[];
  /** Render an `object` attribute as a nested HCL block, a list of objects as repeated blocks, rather than an object-typed attribute. */
  readonly block?: boolean;
  /** A computed output that keeps its prior value across updates (never "known after apply" again). */
  readonly stable?: boolean;
  /** Example value shown in the generated docs. */
  readonly example?: Value;
  /** Environment variables read when the attribute is not set (provider configuration only). */
  readonly env?: readonly string[];
  /**
   * An input vSphere has no field for: the lifecycle keeps it in a marker of its own on the object
   * it makes, and reads it back from there (a container VM's command, in `vic.spec`).
   */
  readonly marker?: boolean;
  /**
   * An input vSphere holds nowhere, not even in a marker (how to reach the registry, what a destroy
   * may delete): an import cannot read it, and a change of it alone changes only the state.
   */
  readonly configOnly?: boolean;
}

export type Schema = { readonly [name: string]: Attribute };

/** The TypeScript type of a known value of an attribute type. */
export type ValueOf<T extends AttrType> = T extends { readonly kind: 'string' }
  ? string
  : T extends { readonly kind: 'number' }
    ? number
    : T extends { readonly kind: 'bool' }
      ? boolean
      : T extends { readonly kind: 'list' | 'set'; readonly element: infer E extends AttrType }
        ? ValueOf<E>[]
        : T extends { readonly kind: 'map'; readonly element: infer E extends AttrType }
          ? { [key: string]: ValueOf<E> }
          : T extends { readonly kind: 'object'; readonly attributes: infer S extends Schema }
            ? AttrsOf<S>
            : never;

/** Whether a validated object always holds a value for the attribute: it is required, or has a default. */
type AlwaysSet<A extends Attribute> = A extends { readonly required: true } ? true : A extends { readonly default: Value } ? true : false;

/** Computed attributes that may be unset: the engine drops values not known yet before an apply, so they may be absent. */
type MaybeAbsent<S extends Schema> = { [K in keyof S]: S[K] extends { readonly computed: true } ? (AlwaysSet<S[K]> extends true ? never : K) : never }[keyof S];

/**
 * The attributes of a validated object of this schema (defaults filled), typed from the
 * declaration: `AttrsOf<typeof containerVm.schema>` reads `memory_mb` as a number, and a renamed
 * attribute is a compile error wherever a lifecycle still uses the old name. Declarations keep their
 * literal types for this by `satisfies ResourceDeclaration` instead of a type annotation.
 */
export type AttrsOf<S extends Schema> = {
  -readonly [K in Exclude<keyof S, MaybeAbsent<S>>]: AlwaysSet<S[K]> extends true ? ValueOf<S[K]['type']> : ValueOf<S[K]['type']> | null;
} & { -readonly [K in MaybeAbsent<S>]?: ValueOf<S[K]['type']> | null };

/** The same, in a plan: any value may still be unknown (a reference to something not created yet). */
export type PlannedAttrs<S extends Schema> = Planned<AttrsOf<S>>;
type Planned<A> = { [K in keyof A]: A[K] | Unknown };

/** True when the attribute is sensitive or holds a sensitive part (registry_auth.password). */
export function holdsSensitive(attribute: Attribute): boolean {
  const inType = (type: AttrType): boolean =>
    type.kind === 'object' ? Object.values(type.attributes).some(holdsSensitive) : 'element' in type ? inType(type.element) : false;
  return attribute.sensitive === true || inType(attribute.type);
}

/** snake_case attribute name → camelCase (Pulumi args, JSON output). */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A human path for messages: `networks[1]`, `registry_auth.password`, `labels[""]`. */
export function formatPath(path: AttrPath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    // A map key that would not read as one after a dot (empty, blank, quoted) is shown quoted.
    else if (out !== '' && (step.trim() === '' || /["[\]\s]/.test(step))) out += `[${JSON.stringify(step)}]`;
    else out += out === '' ? step : `.${step}`;
  }
  return out;
}

export function typeName(type: AttrType): string {
  switch (type.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind}(${typeName(type.element)})`;
    case 'object':
      return 'object';
    default:
      return type.kind;
  }
}
