/**
 * The cty wire formats, type-directed: msgpack for DynamicValue (what Terraform reads), JSON for
 * DynamicValue.json and RawState. Follows Terraform's docs/plugin-protocol/object-wire-format.md and
 * go-cty's cty/msgpack: null is nil, unknown is an extension, objects are maps with exactly their
 * attributes, a dynamic value is [type JSON, value].
 */
import { Decoder, Encoder, ExtData } from '@msgpack/msgpack';
import { UNKNOWN } from '../src/resources';
import { CtyType, CtyValue, Refinement, ctyTypeName, dynamicValue, isDynamicValue, isRefinedUnknown, refinedUnknown } from './cty';

/** A value that does not fit its type; says where (a cty-style path) and what was found. */
export class CodecError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path === '' ? 'value' : path}: ${message}`);
    this.name = 'CodecError';
  }
}

const UNKNOWN_EXT = 0;
// Terraform >= 1.6 (go-cty 1.13) sends refined unknowns as ext 12, a map keyed by small integers.
const REFINED_UNKNOWN_EXT = 12;
const enum RefinementKey {
  NotNull = 1,
  StringPrefix = 2,
  NumberLower = 3,
  NumberUpper = 4,
  LengthLower = 5,
  LengthUpper = 6,
}

// Shared instances: building an Encoder/Decoder allocates buffers, and calls are synchronous.
const encoder = new Encoder();
// int64/uint64 arrive as bigint so numbers above 2^53 stay exact (then become decimal strings).
const decoder = new Decoder({ useBigInt64: true });
const plainDecoder = new Decoder();

export interface DecodeOptions {
  /** Keep refinements of unknown values (RefinedUnknown) instead of the plain UNKNOWN. */
  readonly refinements?: boolean;
}

// ---------------------------------------------------------------------------------------------
// msgpack

/** A Buffer of its own (the encoder's buffer is reused by the next call), ready for a protobuf bytes field. */
export function encodeMsgpack(type: CtyType, value: CtyValue | undefined): Buffer {
  let wire: unknown;
  try {
    wire = toWireFor(type)(value);
  } catch (err) {
    throw codecError(err, undefined);
  }
  return Buffer.from(encoder.encodeSharedRef(wire));
}

export function decodeMsgpack(type: CtyType, bytes: Uint8Array, opts: DecodeOptions = {}): CtyValue {
  const raw = decoder.decode(bytes);
  try {
    return fromWireFor(type)(raw, opts);
  } catch (err) {
    throw codecError(err, undefined);
  }
}

/**
 * Where a value sits, built only when an error names it: formatting a path for every attribute of
 * every value was a sizeable share of the codec's time on a 1000-resource plan.
 */
type WirePath = { readonly parent: WirePath; readonly key: string | number } | undefined;

function at(parent: WirePath, key: string | number): WirePath {
  return { parent, key };
}

function pathText(path: WirePath): string {
  if (path === undefined) return '';
  const parent = pathText(path.parent);
  const key = path.key;
  return typeof key === 'number' ? `${parent}[${key}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function unknownExt(v: CtyValue): ExtData {
  if (!isRefinedUnknown(v) || Object.keys(v.refinement).length === 0) return new ExtData(UNKNOWN_EXT, new Uint8Array([0]));
  return new ExtData(REFINED_UNKNOWN_EXT, encodeRefinement(v.refinement));
}

/** A map with integer keys, which Encoder cannot write (it writes keys as strings). */
function encodeRefinement(r: Refinement): Uint8Array {
  const entries: [number, unknown][] = [];
  if (r.notNull !== undefined) entries.push([RefinementKey.NotNull, r.notNull]);
  if (r.stringPrefix !== undefined) entries.push([RefinementKey.StringPrefix, r.stringPrefix]);
  if (r.numberLower !== undefined) entries.push([RefinementKey.NumberLower, [...r.numberLower]]);
  if (r.numberUpper !== undefined) entries.push([RefinementKey.NumberUpper, [...r.numberUpper]]);
  if (r.lengthLower !== undefined) entries.push([RefinementKey.LengthLower, r.lengthLower]);
  if (r.lengthUpper !== undefined) entries.push([RefinementKey.LengthUpper, r.lengthUpper]);
  const parts = [Uint8Array.of(0x80 | entries.length)];
  for (const [k, v] of entries) parts.push(Uint8Array.of(k), encoder.encode(v));
  return Buffer.concat(parts);
}

function decodeRefinement(data: Uint8Array): Refinement {
  const raw = plainDecoder.decode(data) as Record<string, unknown>;
  const r: { -readonly [K in keyof Refinement]: Refinement[K] } = {};
  if (typeof raw[RefinementKey.NotNull] === 'boolean') r.notNull = raw[RefinementKey.NotNull] as boolean;
  if (typeof raw[RefinementKey.StringPrefix] === 'string') r.stringPrefix = raw[RefinementKey.StringPrefix] as string;
  if (Array.isArray(raw[RefinementKey.NumberLower])) r.numberLower = raw[RefinementKey.NumberLower] as [number, boolean];
  if (Array.isArray(raw[RefinementKey.NumberUpper])) r.numberUpper = raw[RefinementKey.NumberUpper] as [number, boolean];
  if (typeof raw[RefinementKey.LengthLower] === 'number') r.lengthLower = raw[RefinementKey.LengthLower] as number;
  if (typeof raw[RefinementKey.LengthUpper] === 'number') r.lengthUpper = raw[RefinementKey.LengthUpper] as number;
  return r;
}

function isUnknownValue(v: unknown): boolean {
  return v === UNKNOWN || isRefinedUnknown(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`;
}

// Converters compiled once per type: the schemas are fixed, and walking the type afresh for
// every value (a switch per attribute, Object.keys of the type, a path object per attribute) was
// most of the codec's own time on a plan of many resources. A converter knows no path: a fault
// collects the keys on its way out, and only then becomes a CodecError naming where.

type Key = string | number;

class WireFault {
  /** Outermost first. */
  readonly keys: Key[] = [];
  constructor(readonly message: string) {}
}

function fault(message: string, key?: Key): WireFault {
  const f = new WireFault(message);
  if (key !== undefined) f.keys.push(key);
  return f;
}

/** Rethrows `err` one level out, under `key`. */
function within(key: Key, err: unknown): never {
  if (err instanceof WireFault) err.keys.unshift(key);
  throw err;
}

function codecError(err: unknown, base: WirePath): unknown {
  if (!(err instanceof WireFault)) return err;
  let path = base;
  for (const k of err.keys) path = at(path, k);
  return new CodecError(pathText(path), err.message);
}

type ToWire = (v: CtyValue | undefined) => unknown;
type FromWire = (raw: unknown, opts: DecodeOptions) => CtyValue;

const toWireOf = new WeakMap<object, ToWire>();
const fromWireOf = new WeakMap<object, FromWire>();

/** A primitive's converter, or a compound type's, compiled on first use and kept with the type object. */
function converterFor<F>(
  type: CtyType,
  primitives: Readonly<Record<string, F>>,
  compiled: WeakMap<object, F>,
  compile: (type: Exclude<CtyType, string>) => F,
): F {
  if (typeof type === 'string') {
    const primitive = primitives[type];
    if (!primitive) throw fault(`unsupported type ${JSON.stringify(type)}`);
    return primitive;
  }
  let fn = compiled.get(type);
  if (!fn) {
    fn = compile(type);
    compiled.set(type, fn);
  }
  return fn;
}

/** Numbers: a safe integer or a float as itself; anything beyond float64 precision as a decimal string. */
function wireNumber(v: unknown): number | string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw fault(`${v} is not a finite number`);
    return v;
  }
  if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(v)) return v;
  throw fault(`number required, got ${describe(v)}`);
}

const PRIMITIVE_TO_WIRE: Readonly<Record<string, ToWire>> = {
  string: (v) => {
    if (typeof v === 'string') return v;
    if (v === null || v === undefined) return null;
    if (isUnknownValue(v)) return unknownExt(v);
    throw fault(`string required, got ${describe(v)}`);
  },
  number: (v) => {
    if (v === null || v === undefined) return null;
    if (isUnknownValue(v)) return unknownExt(v);
    return wireNumber(v);
  },
  bool: (v) => {
    if (typeof v === 'boolean') return v;
    if (v === null || v === undefined) return null;
    if (isUnknownValue(v)) return unknownExt(v);
    throw fault(`bool required, got ${describe(v)}`);
  },
  dynamic: (v) => {
    if (v === null || v === undefined) return null;
    if (isUnknownValue(v)) return unknownExt(v);
    const [concrete, inner]: [CtyType, CtyValue] = isDynamicValue(v) ? [v.type, v.value] : [impliedTypeOf(v), v];
    return [Buffer.from(JSON.stringify(concrete)), toWireFor(concrete)(inner)];
  },
};

function toWireFor(type: CtyType): ToWire {
  return converterFor(type, PRIMITIVE_TO_WIRE, toWireOf, compileToWire);
}

function compileToWire(type: Exclude<CtyType, string>): ToWire {
  switch (type[0]) {
    case 'list':
    case 'set': {
      const element = toWireFor(type[1] as CtyType);
      return (v) => {
        if (v === null || v === undefined) return null;
        if (isUnknownValue(v)) return unknownExt(v);
        if (!Array.isArray(v)) throw fault(`${ctyTypeName(type)} required, got ${describe(v)}`);
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          try {
            out.push(element(v[i]));
          } catch (err) {
            within(i, err);
          }
        }
        return out;
      };
    }
    case 'map': {
      const element = toWireFor(type[1] as CtyType);
      return (v) => {
        if (v === null || v === undefined) return null;
        if (isUnknownValue(v)) return unknownExt(v);
        if (typeof v !== 'object' || Array.isArray(v)) throw fault(`${ctyTypeName(type)} required, got ${describe(v)}`);
        const out: Record<string, unknown> = {};
        for (const [k, e] of Object.entries(v)) {
          try {
            out[k] = element(e as CtyValue);
          } catch (err) {
            within(k, err);
          }
        }
        return out;
      };
    }
    case 'tuple': {
      const elements = (type[1] as readonly CtyType[]).map(toWireFor);
      return (v) => {
        if (v === null || v === undefined) return null;
        if (isUnknownValue(v)) return unknownExt(v);
        if (!Array.isArray(v) || v.length !== elements.length) {
          throw fault(`a tuple of ${elements.length} elements required, got ${describe(v)}${Array.isArray(v) ? ` of ${v.length}` : ''}`);
        }
        return elements.map((element, i) => {
          try {
            return element(v[i]);
          } catch (err) {
            return within(i, err);
          }
        });
      };
    }
    case 'object': {
      const attrs = type[1] as { readonly [name: string]: CtyType };
      const names = Object.keys(attrs);
      const known = new Set(names);
      const converters = names.map((n) => toWireFor(attrs[n]));
      return (v) => {
        if (v === null || v === undefined) return null;
        if (isUnknownValue(v)) return unknownExt(v);
        if (typeof v !== 'object' || Array.isArray(v)) throw fault(`object required, got ${describe(v)}`);
        const given = v as Record<string, CtyValue>;
        for (const k in given) {
          if (!known.has(k)) throw fault(`unsupported attribute (the object type has ${names.join(', ') || 'no attributes'})`, k);
        }
        // cty requires exactly one entry per attribute: absent ones go out as null.
        const out: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) {
          const k = names[i];
          try {
            out[k] = converters[i](given[k]);
          } catch (err) {
            within(k, err);
          }
        }
        return out;
      };
    }
  }
  throw fault(`unsupported type ${JSON.stringify(type)}`);
}

/** The type cty would infer for a plain JS value placed in a dynamic attribute. */
export function impliedType(v: CtyValue, path: WirePath = undefined): CtyType {
  try {
    return impliedTypeOf(v);
  } catch (err) {
    throw codecError(err, path);
  }
}

function impliedTypeOf(v: CtyValue): CtyType {
  if (isDynamicValue(v)) return v.type;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || isUnknownValue(v)) return 'dynamic';
  if (Array.isArray(v)) {
    return [
      'tuple',
      v.map((e, i) => {
        try {
          return impliedTypeOf(e);
        } catch (err) {
          return within(i, err);
        }
      }),
    ];
  }
  if (typeof v === 'object') {
    const attrs: Record<string, CtyType> = {};
    for (const [k, e] of Object.entries(v)) {
      try {
        attrs[k] = impliedTypeOf(e as CtyValue);
      } catch (err) {
        within(k, err);
      }
    }
    return ['object', attrs];
  }
  throw fault(`cannot infer a type for ${describe(v)}`);
}

function numberFromWire(raw: unknown, path: WirePath): number | string {
  try {
    return wireNumberValue(raw);
  } catch (err) {
    throw codecError(err, path);
  }
}

function wireNumberValue(raw: unknown): number | string {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  // cty writes numbers that fit neither int64 nor float64 as decimal strings.
  if (typeof raw === 'string') {
    if (!/^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(raw)) throw fault(`number required, got string ${JSON.stringify(raw)}`);
    // Keep the text when a JS number would round it, so the value goes back out unchanged.
    const n = Number(raw);
    return String(n) === raw ? n : raw;
  }
  throw fault(`number required, got ${describe(raw)}`);
}

/** Any extension is an unknown: ext 0 plain, ext 12 refined; other codes are read as plain unknowns. */
function unknownFromWire(raw: ExtData, opts: DecodeOptions): CtyValue {
  if (raw.type === REFINED_UNKNOWN_EXT && opts.refinements) return refinedUnknown(decodeRefinement(raw.data as Uint8Array));
  return UNKNOWN;
}

function isMapLike(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Uint8Array);
}

const PRIMITIVE_FROM_WIRE: Readonly<Record<string, FromWire>> = {
  string: (raw, opts) => {
    if (typeof raw === 'string') return raw;
    if (raw === null || raw === undefined) return null;
    if (raw instanceof ExtData) return unknownFromWire(raw, opts);
    throw fault(`string required, got ${describe(raw)}`);
  },
  number: (raw, opts) => {
    if (typeof raw === 'number') return raw;
    if (raw === null || raw === undefined) return null;
    if (raw instanceof ExtData) return unknownFromWire(raw, opts);
    return wireNumberValue(raw);
  },
  bool: (raw, opts) => {
    if (typeof raw === 'boolean') return raw;
    if (raw === null || raw === undefined) return null;
    if (raw instanceof ExtData) return unknownFromWire(raw, opts);
    throw fault(`bool required, got ${describe(raw)}`);
  },
  dynamic: (raw, opts) => {
    if (raw === null || raw === undefined) return null;
    if (raw instanceof ExtData) return unknownFromWire(raw, opts);
    if (!Array.isArray(raw) || raw.length !== 2 || !(raw[0] instanceof Uint8Array)) {
      throw fault(`a dynamic value must be [type JSON bytes, value], got ${describe(raw)}`);
    }
    const concrete = JSON.parse(Buffer.from(raw[0]).toString('utf8')) as CtyType;
    return dynamicValue(concrete, fromWireFor(concrete)(raw[1], opts));
  },
};

function fromWireFor(type: CtyType): FromWire {
  return converterFor(type, PRIMITIVE_FROM_WIRE, fromWireOf, compileFromWire);
}

function compileFromWire(type: Exclude<CtyType, string>): FromWire {
  switch (type[0]) {
    case 'list':
    case 'set': {
      const element = fromWireFor(type[1] as CtyType);
      return (raw, opts) => {
        if (raw === null || raw === undefined) return null;
        if (raw instanceof ExtData) return unknownFromWire(raw, opts);
        if (!Array.isArray(raw)) throw fault(`${ctyTypeName(type)} required, got ${describe(raw)}`);
        const out: CtyValue[] = [];
        for (let i = 0; i < raw.length; i++) {
          try {
            out.push(element(raw[i], opts));
          } catch (err) {
            within(i, err);
          }
        }
        return out;
      };
    }
    case 'map': {
      const element = fromWireFor(type[1] as CtyType);
      return (raw, opts) => {
        if (raw === null || raw === undefined) return null;
        if (raw instanceof ExtData) return unknownFromWire(raw, opts);
        if (!isMapLike(raw)) throw fault(`${ctyTypeName(type)} required, got ${describe(raw)}`);
        const out: Record<string, CtyValue> = {};
        for (const [k, e] of Object.entries(raw)) {
          try {
            out[k] = element(e, opts);
          } catch (err) {
            within(k, err);
          }
        }
        return out;
      };
    }
    case 'tuple': {
      const elements = (type[1] as readonly CtyType[]).map(fromWireFor);
      return (raw, opts) => {
        if (raw === null || raw === undefined) return null;
        if (raw instanceof ExtData) return unknownFromWire(raw, opts);
        if (!Array.isArray(raw) || raw.length !== elements.length) {
          throw fault(`a tuple of ${elements.length} elements required, got ${describe(raw)}${Array.isArray(raw) ? ` of ${raw.length}` : ''}`);
        }
        return elements.map((element, i) => {
          try {
            return element(raw[i], opts);
          } catch (err) {
            return within(i, err);
          }
        });
      };
    }
    case 'object': {
      const attrs = type[1] as { readonly [name: string]: CtyType };
      const names = Object.keys(attrs);
      const known = new Set(names);
      const converters = names.map((n) => fromWireFor(attrs[n]));
      return (raw, opts) => {
        if (raw === null || raw === undefined) return null;
        if (raw instanceof ExtData) return unknownFromWire(raw, opts);
        if (!isMapLike(raw)) throw fault(`object required, got ${describe(raw)}`);
        let got = 0;
        for (const k in raw) {
          if (!known.has(k)) throw fault('unsupported attribute', k);
          got++;
        }
        if (got !== names.length) {
          const missing = names.filter((k) => !(k in raw));
          throw fault(`an object with ${names.length} attributes is required (${got} given; missing ${missing.join(', ')})`);
        }
        const out: Record<string, CtyValue> = {};
        for (let i = 0; i < names.length; i++) {
          const k = names[i];
          try {
            out[k] = converters[i](raw[k], opts);
          } catch (err) {
            within(k, err);
          }
        }
        return out;
      };
    }
  }
  throw fault(`unsupported type ${JSON.stringify(type)}`);
}

// ---------------------------------------------------------------------------------------------
// JSON (DynamicValue.json and RawState.json): the same mapping, no unknowns.

export interface JsonDecodeOptions {
  /**
   * Stored state may predate the schema: fill absent attributes with null and drop ones the schema no
   * longer has (Terraform strips removed attributes itself only at the current version).
   */
  readonly lenientObjects?: boolean;
}

export function decodeJson(type: CtyType, json: Uint8Array | string, opts: JsonDecodeOptions = {}): CtyValue {
  const text = typeof json === 'string' ? json : Buffer.from(json).toString('utf8');
  return fromJsonValue(type, JSON.parse(text) as unknown, undefined, opts);
}

export function fromJsonValue(type: CtyType, raw: unknown, path: WirePath, opts: JsonDecodeOptions = {}): CtyValue {
  if (raw === null || raw === undefined) return null;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        // cty's JSON decoder converts primitives to the attribute's type.
        if (typeof raw === 'string') return raw;
        if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
        throw new CodecError(pathText(path), `string required, got ${describe(raw)}`);
      case 'number':
        return numberFromWire(raw, path);
      case 'bool':
        if (typeof raw === 'boolean') return raw;
        if (raw === 'true' || raw === 'false') return raw === 'true';
        throw new CodecError(pathText(path), `bool required, got ${describe(raw)}`);
      case 'dynamic': {
        const wrapped = raw as { type?: CtyType; value?: unknown };
        if (typeof raw !== 'object' || wrapped.type === undefined) throw new CodecError(pathText(path), 'a dynamic value must be {"type": T, "value": V}');
        return dynamicValue(wrapped.type, fromJsonValue(wrapped.type, wrapped.value, path, opts));
      }
    }
  }
  switch (type[0]) {
    case 'list':
    case 'set':
      if (!Array.isArray(raw)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(raw)}`);
      return raw.map((e, i) => fromJsonValue(type[1] as CtyType, e, at(path, i), opts));
    case 'map': {
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(raw)}`);
      const out: Record<string, CtyValue> = {};
      for (const [k, e] of Object.entries(raw)) out[k] = fromJsonValue(type[1] as CtyType, e, at(path, k), opts);
      return out;
    }
    case 'tuple': {
      const elements = type[1] as readonly CtyType[];
      if (!Array.isArray(raw) || raw.length !== elements.length)
        throw new CodecError(pathText(path), `a tuple of ${elements.length} elements required, got ${describe(raw)}`);
      return elements.map((t, i) => fromJsonValue(t, raw[i], at(path, i), opts));
    }
    case 'object': {
      const attrs = type[1] as { readonly [name: string]: CtyType };
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new CodecError(pathText(path), `object required, got ${describe(raw)}`);
      const given = raw as Record<string, unknown>;
      if (!opts.lenientObjects) {
        for (const k of Object.keys(given)) if (!(k in attrs)) throw new CodecError(pathText(at(path, k)), 'unsupported attribute');
        const missing = Object.keys(attrs).filter((k) => !(k in given));
        if (missing.length > 0)
          throw new CodecError(pathText(path), `an object with ${Object.keys(attrs).length} attributes is required (missing ${missing.join(', ')})`);
      }
      const out: Record<string, CtyValue> = {};
      for (const [k, t] of Object.entries(attrs)) out[k] = fromJsonValue(t, given[k], at(path, k), opts);
      return out;
    }
  }
  throw new CodecError(pathText(path), `unsupported type ${JSON.stringify(type)}`);
}

export function encodeJson(type: CtyType, value: CtyValue): string {
  return JSON.stringify(toJsonValue(type, value, undefined));
}

function toJsonValue(type: CtyType, v: CtyValue | undefined, path: WirePath): unknown {
  if (v === null || v === undefined) return null;
  if (isUnknownValue(v)) throw new CodecError(pathText(path), 'unknown values cannot be written as JSON');
  if (type === 'dynamic') {
    const [concrete, inner]: [CtyType, CtyValue] = isDynamicValue(v) ? [v.type, v.value] : [impliedType(v, path), v];
    return { type: concrete, value: toJsonValue(concrete, inner, path) };
  }
  // Decimal strings beyond float64 go out as JSON strings, which cty's JSON decoder reads as numbers.
  if (typeof type === 'string') {
    try {
      return toWireFor(type)(v);
    } catch (err) {
      throw codecError(err, path);
    }
  }
  switch (type[0]) {
    case 'list':
    case 'set':
      if (!Array.isArray(v)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(v)}`);
      return v.map((e, i) => toJsonValue(type[1] as CtyType, e, at(path, i)));
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(v)}`);
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v)) out[k] = toJsonValue(type[1] as CtyType, e as CtyValue, at(path, k));
      return out;
    }
    case 'tuple': {
      const elements = type[1] as readonly CtyType[];
      if (!Array.isArray(v) || v.length !== elements.length)
        throw new CodecError(pathText(path), `a tuple of ${elements.length} elements required, got ${describe(v)}`);
      return elements.map((t, i) => toJsonValue(t, v[i], at(path, i)));
    }
    case 'object': {
      const attrs = type[1] as { readonly [name: string]: CtyType };
      if (typeof v !== 'object' || Array.isArray(v)) throw new CodecError(pathText(path), `object required, got ${describe(v)}`);
      const given = v as Record<string, CtyValue>;
      for (const k of Object.keys(given)) if (!(k in attrs)) throw new CodecError(pathText(at(path, k)), 'unsupported attribute');
      const out: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(attrs)) out[k] = toJsonValue(t, given[k], at(path, k));
      return out;
    }
  }
  throw new CodecError(pathText(path), `unsupported type ${JSON.stringify(type)}`);
}

/** A DynamicValue from Terraform: msgpack if present, else JSON, else (both empty) null. */
export function decodeDynamicValue(
  type: CtyType,
  dv: { msgpack?: Uint8Array | null; json?: Uint8Array | null } | null | undefined,
  opts: DecodeOptions = {},
): CtyValue {
  if (dv?.msgpack && dv.msgpack.length > 0) return decodeMsgpack(type, dv.msgpack, opts);
  if (dv?.json && dv.json.length > 0) return decodeJson(type, dv.json);
  return null;
}

/**
 * Whether a DynamicValue is null, without decoding it: msgpack nil, JSON null, or both empty. For a
 * value only ever compared with null (the proposed new state of a plan).
 */
export function isNullDynamicValue(dv: { msgpack?: Uint8Array | null; json?: Uint8Array | null } | null | undefined): boolean {
  if (dv?.msgpack && dv.msgpack.length > 0) return dv.msgpack.length === 1 && dv.msgpack[0] === 0xc0;
  if (dv?.json && dv.json.length > 0) return Buffer.from(dv.json).toString('utf8').trim() === 'null';
  return true;
}
