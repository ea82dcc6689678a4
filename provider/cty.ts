/**
 * cty types and values as they cross the plugin protocol. A type is its own JSON form ("string",
 * ["list","string"], ["object",{...}]), so the schema's `Attribute.type` bytes are JSON.stringify(type).
 * Values reuse the engine's `Value` model (UNKNOWN for "known after apply"), plus two wrappers that
 * only the codec needs: a refined unknown and a value of DynamicPseudoType carrying its concrete type.
 */
import { UNKNOWN, Value } from '../src/resources';

export type CtyType =
  | 'string'
  | 'number'
  | 'bool'
  | 'dynamic'
  | readonly ['list' | 'set' | 'map', CtyType]
  | readonly ['object', { readonly [name: string]: CtyType }]
  | readonly ['object', { readonly [name: string]: CtyType }, readonly string[]]
  | readonly ['tuple', readonly CtyType[]];

export const ctyList = (element: CtyType): CtyType => ['list', element];
export const ctySet = (element: CtyType): CtyType => ['set', element];
export const ctyMap = (element: CtyType): CtyType => ['map', element];
export const ctyObject = (attributes: { readonly [name: string]: CtyType }): CtyType => ['object', attributes];
export const ctyTuple = (elements: readonly CtyType[]): CtyType => ['tuple', elements];

/** What Terraform promised about an unknown value (protocol refinements, msgpack ext 12). */
export interface Refinement {
  readonly notNull?: boolean;
  readonly stringPrefix?: string;
  readonly numberLower?: readonly [number, boolean];
  readonly numberUpper?: readonly [number, boolean];
  readonly lengthLower?: number;
  readonly lengthUpper?: number;
}

const REFINED = Symbol.for('vic-iac.cty.refined-unknown');
const DYNAMIC = Symbol.for('vic-iac.cty.dynamic');

/** An unknown value with refinements. Decoded only on request; `UNKNOWN` is the plain form. */
export interface RefinedUnknown {
  readonly [REFINED]: true;
  readonly refinement: Refinement;
}

/** A value of DynamicPseudoType: the wire carries the concrete type next to the value. */
export interface DynamicValueOf {
  readonly [DYNAMIC]: true;
  readonly type: CtyType;
  readonly value: CtyValue;
}

export type CtyValue = Value | RefinedUnknown | DynamicValueOf | CtyValue[] | { [key: string]: CtyValue };

export function refinedUnknown(refinement: Refinement): RefinedUnknown {
  return { [REFINED]: true, refinement };
}

export function isRefinedUnknown(v: unknown): v is RefinedUnknown {
  return typeof v === 'object' && v !== null && (v as { [REFINED]?: true })[REFINED] === true;
}

export function dynamicValue(type: CtyType, value: CtyValue): DynamicValueOf {
  return { [DYNAMIC]: true, type, value };
}

export function isDynamicValue(v: unknown): v is DynamicValueOf {
  return typeof v === 'object' && v !== null && (v as { [DYNAMIC]?: true })[DYNAMIC] === true;
}

export function isAnyUnknown(v: unknown): boolean {
  return v === UNKNOWN || isRefinedUnknown(v);
}

/** The attribute types of an object type (also accepts the three-element form with optionals). */
export function objectAttributes(type: CtyType): { readonly [name: string]: CtyType } {
  if (!Array.isArray(type) || type[0] !== 'object') throw new TypeError(`not an object type: ${JSON.stringify(type)}`);
  return type[1] as { readonly [name: string]: CtyType };
}

/** Human form for messages, as Terraform prints types: list(string), object({...}). */
export function ctyTypeName(type: CtyType): string {
  if (typeof type === 'string') return type;
  switch (type[0]) {
    case 'list':
    case 'set':
    case 'map':
      return `${type[0]}(${ctyTypeName(type[1] as CtyType)})`;
    case 'tuple':
      return `tuple([${(type[1] as readonly CtyType[]).map(ctyTypeName).join(', ')}])`;
    default:
      return 'object';
  }
}

/**
 * Whether two values are surely equal as cty compares them: null is not an empty collection, a
 * missing key is not a null one, and an unknown equals nothing (not even another unknown). Sets are
 * compared in order, so equal sets in another order count as different: callers use it to skip work
 * for values that are surely unchanged, where a false "different" only costs that work.
 */
export function surelyEqual(a: CtyValue | undefined, b: CtyValue | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return a === b && a !== UNKNOWN;
  if (isAnyUnknown(a) || isAnyUnknown(b) || isDynamicValue(a) || isDynamicValue(b)) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!surelyEqual(a[i], b[i])) return false;
    return true;
  }
  const ao = a as { [key: string]: CtyValue };
  const bo = b as { [key: string]: CtyValue };
  let count = 0;
  for (const k in ao) {
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !surelyEqual(ao[k], bo[k])) return false;
    count++;
  }
  return count === Object.keys(bo).length;
}
