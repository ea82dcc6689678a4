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

export function encodeMsgpack(type: CtyType, value: CtyValue | undefined): Uint8Array {
  return encoder.encode(toWire(type, value, undefined));
}

export function decodeMsgpack(type: CtyType, bytes: Uint8Array, opts: DecodeOptions = {}): CtyValue {
  return fromWire(type, decoder.decode(bytes), undefined, opts);
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

/** Numbers: a safe integer or a float as itself; anything beyond float64 precision as a decimal string. */
function wireNumber(v: unknown, path: WirePath): number | string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CodecError(pathText(path), `${v} is not a finite number`);
    return v;
  }
  if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(v)) return v;
  throw new CodecError(pathText(path), `number required, got ${describe(v)}`);
}

function toWire(type: CtyType, v: CtyValue | undefined, path: WirePath): unknown {
  if (v === null || v === undefined) return null;
  if (isUnknownValue(v)) return unknownExt(v);
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof v !== 'string') throw new CodecError(pathText(path), `string required, got ${describe(v)}`);
        return v;
      case 'number':
        return wireNumber(v, path);
      case 'bool':
        if (typeof v !== 'boolean') throw new CodecError(pathText(path), `bool required, got ${describe(v)}`);
        return v;
      case 'dynamic': {
        const [concrete, inner]: [CtyType, CtyValue] = isDynamicValue(v) ? [v.type, v.value] : [impliedType(v, path), v];
        return [Buffer.from(JSON.stringify(concrete)), toWire(concrete, inner, path)];
      }
    }
  }
  switch (type[0]) {
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(v)}`);
      return v.map((e, i) => toWire(type[1] as CtyType, e, at(path, i)));
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(v)}`);
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v)) out[k] = toWire(type[1] as CtyType, e as CtyValue, at(path, k));
      return out;
    }
    case 'tuple': {
      const elements = type[1] as readonly CtyType[];
      if (!Array.isArray(v) || v.length !== elements.length) {
        throw new CodecError(pathText(path), `a tuple of ${elements.length} elements required, got ${describe(v)}${Array.isArray(v) ? ` of ${v.length}` : ''}`);
      }
      return elements.map((t, i) => toWire(t, v[i], at(path, i)));
    }
    case 'object': {
      const attrs = type[1] as { readonly [name: string]: CtyType };
      if (typeof v !== 'object' || Array.isArray(v)) throw new CodecError(pathText(path), `object required, got ${describe(v)}`);
      const given = v as Record<string, CtyValue>;
      for (const k of Object.keys(given)) {
        if (!(k in attrs))
          throw new CodecError(pathText(at(path, k)), `unsupported attribute (the object type has ${Object.keys(attrs).join(', ') || 'no attributes'})`);
      }
      // cty requires exactly one entry per attribute: absent ones go out as null.
      const out: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(attrs)) out[k] = toWire(t, given[k], at(path, k));
      return out;
    }
  }
  throw new CodecError(pathText(path), `unsupported type ${JSON.stringify(type)}`);
}

/** The type cty would infer for a plain JS value placed in a dynamic attribute. */
export function impliedType(v: CtyValue, path: WirePath = undefined): CtyType {
  if (isDynamicValue(v)) return v.type;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || isUnknownValue(v)) return 'dynamic';
  if (Array.isArray(v)) return ['tuple', v.map((e, i) => impliedType(e, at(path, i)))];
  if (typeof v === 'object') {
    const attrs: Record<string, CtyType> = {};
    for (const [k, e] of Object.entries(v)) attrs[k] = impliedType(e as CtyValue, at(path, k));
    return ['object', attrs];
  }
  throw new CodecError(pathText(path), `cannot infer a type for ${describe(v)}`);
}

function numberFromWire(raw: unknown, path: WirePath): number | string {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  // cty writes numbers that fit neither int64 nor float64 as decimal strings.
  if (typeof raw === 'string') {
    if (!/^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(raw)) throw new CodecError(pathText(path), `number required, got string ${JSON.stringify(raw)}`);
    // Keep the text when a JS number would round it, so the value goes back out unchanged.
    const n = Number(raw);
    return String(n) === raw ? n : raw;
  }
  throw new CodecError(pathText(path), `number required, got ${describe(raw)}`);
}

function fromWire(type: CtyType, raw: unknown, path: WirePath, opts: DecodeOptions): CtyValue {
  if (raw === null || raw === undefined) return null;
  // Any extension is an unknown: ext 0 plain, ext 12 refined; other codes are read as plain unknowns.
  if (raw instanceof ExtData) {
    if (raw.type === REFINED_UNKNOWN_EXT && opts.refinements) return refinedUnknown(decodeRefinement(raw.data as Uint8Array));
    return UNKNOWN;
  }
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof raw !== 'string') throw new CodecError(pathText(path), `string required, got ${describe(raw)}`);
        return raw;
      case 'number':
        return numberFromWire(raw, path);
      case 'bool':
        if (typeof raw !== 'boolean') throw new CodecError(pathText(path), `bool required, got ${describe(raw)}`);
        return raw;
      case 'dynamic': {
        if (!Array.isArray(raw) || raw.length !== 2 || !(raw[0] instanceof Uint8Array)) {
          throw new CodecError(pathText(path), `a dynamic value must be [type JSON bytes, value], got ${describe(raw)}`);
        }
        const concrete = JSON.parse(Buffer.from(raw[0]).toString('utf8')) as CtyType;
        return dynamicValue(concrete, fromWire(concrete, raw[1], path, opts));
      }
    }
  }
  switch (type[0]) {
    case 'list':
    case 'set': {
      if (!Array.isArray(raw)) throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(raw)}`);
      return raw.map((e, i) => fromWire(type[1] as CtyType, e, at(path, i), opts));
    }
    case 'map': {
      if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array)
        throw new CodecError(pathText(path), `${ctyTypeName(type)} required, got ${describe(raw)}`);
      const out: Record<string, CtyValue> = {};
      for (const [k, e] of Object.entries(raw)) out[k] = fromWire(type[1] as CtyType, e, at(path, k), opts);
      return out;
    }
    case 'tuple': {
      const elements = type[1] as readonly CtyType[];
      if (!Array.isArray(raw) || raw.length !== elements.length) {
        throw new CodecError(
          pathText(path),
          `a tuple of ${elements.length} elements required, got ${describe(raw)}${Array.isArray(raw) ? ` of ${raw.length}` : ''}`,
        );
      }
      return elements.map((t, i) => fromWire(t, raw[i], at(path, i), opts));
    }
    case 'object': {
      const attrs = type[1] as { readonly [name: string]: CtyType };
      if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array)
        throw new CodecError(pathText(path), `object required, got ${describe(raw)}`);
      const given = raw as Record<string, unknown>;
      for (const k of Object.keys(given)) {
        if (!(k in attrs)) throw new CodecError(pathText(at(path, k)), 'unsupported attribute');
      }
      const want = Object.keys(attrs).length;
      const got = Object.keys(given).length;
      if (got !== want) {
        const missing = Object.keys(attrs).filter((k) => !(k in given));
        throw new CodecError(pathText(path), `an object with ${want} attributes is required (${got} given; missing ${missing.join(', ')})`);
      }
      const out: Record<string, CtyValue> = {};
      for (const [k, t] of Object.entries(attrs)) out[k] = fromWire(t, given[k], at(path, k), opts);
      return out;
    }
  }
  throw new CodecError(pathText(path), `unsupported type ${JSON.stringify(type)}`);
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
  if (typeof type === 'string') return toWire(type, v, path);
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
