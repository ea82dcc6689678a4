/**
 * Desired versus observed, per attribute: the pure half of planning. The vSphere-dependent checks
 * (objects exist, tags resolved) are the lifecycles' `check`, which may add reasons or force a
 * replacement.
 */
import {
  AttrPath,
  Attrs,
  ResourceDeclaration,
  ResourceType,
  UNKNOWN,
  Value,
  containsUnknown,
  declarationFor,
  formatPath,
  holdsSensitive,
  isUnknown,
} from '../resources';
import { Action, AttributeChange, PlannedChange } from './types';

export interface Diff {
  readonly action: Action;
  readonly planned: Attrs | null;
  readonly changes: AttributeChange[];
  readonly requiresReplace: AttrPath[];
  readonly reasons: string[];
}

/** Unset: null, or an empty list/map, which are the same to vSphere. */
export function isEmptyValue(v: Value | undefined): boolean {
  return (
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && !Array.isArray(v) && !isUnknown(v) && Object.keys(v).length === 0)
  );
}

/** Structural equality for attribute values; null and an empty list/map are the same to vSphere. */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (isEmptyValue(a) && isEmptyValue(b)) return true;
  if (isUnknown(a) || isUnknown(b)) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameValue((a as Attrs)[k], (b as Attrs)[k]));
  }
  return a === b;
}

function show(v: Value | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (isUnknown(v)) return '(known after apply)';
  return JSON.stringify(v);
}

/**
 * Plans one resource from its prior (refreshed) state and its validated config (defaults filled).
 * Inputs that are optional + computed keep their prior value when the config leaves them out.
 */
export function diffResource(decl: ResourceDeclaration, prior: Attrs | null, config: Attrs | null): Diff {
  if (config === null) {
    return prior === null
      ? { action: 'no-op', planned: null, changes: [], requiresReplace: [], reasons: [] }
      : { action: 'delete', planned: null, changes: [], requiresReplace: [], reasons: ['removed from the configuration'] };
  }
  const planned: Attrs = {};
  if (prior === null) {
    for (const [name, attr] of Object.entries(decl.schema)) {
      const v = config[name];
      planned[name] = attr.computed && (v === undefined || v === null) ? UNKNOWN : (v ?? null);
    }
    return { action: 'create', planned, changes: [], requiresReplace: [], reasons: ['not in vSphere yet'] };
  }

  const changes: AttributeChange[] = [];
  const requiresReplace: AttrPath[] = [];
  const reasons: string[] = [];
  for (const [name, attr] of Object.entries(decl.schema)) {
    const isInput = attr.required || attr.optional;
    if (!isInput) continue;
    let want = config[name];
    if ((want === undefined || want === null) && attr.computed) want = prior[name];
    const have = prior[name];
    planned[name] = want ?? null;
    if (sameValue(have, want)) continue;
    changes.push({ path: [name], before: have, after: want, forceNew: Boolean(attr.forceNew), ...(attr.configOnly ? { stateOnly: true } : {}) });
    // Reasons reach plans and logs as text: a sensitive value is named, never shown.
    const what = holdsSensitive(attr) ? '(sensitive value) changed' : `${show(have)} → ${show(want)}`;
    if (attr.forceNew) {
      requiresReplace.push([name]);
      reasons.push(`${name}: ${what} (forces replacement)`);
    } else {
      reasons.push(`${name}: ${what}`);
    }
  }
  const replace = requiresReplace.length > 0;
  for (const [name, attr] of Object.entries(decl.schema)) {
    if (attr.required || attr.optional) continue;
    // On replace every output is new; on update, outputs keep their values unless the resource says otherwise.
    planned[name] = replace ? UNKNOWN : (prior[name] ?? null);
  }
  const action: Action = replace ? 'replace' : changes.length > 0 ? 'update' : 'no-op';
  return { action, planned, changes, requiresReplace, reasons };
}

/**
 * An imported state with what the plan against the config changes only in the state taken from the
 * plan: another spelling of the same object, an input vSphere does not hold. An import reads the
 * object, not the config, so without this the first plan after it shows updates that change nothing
 * in vSphere (Terraform's import leaves the config-only attributes to the config in the same way).
 */
export function withStateOnlyChanges(state: Attrs, change: PlannedChange): Attrs {
  if (!change.planned) return state;
  const out = { ...state };
  for (const c of change.changes) {
    const name = String(c.path[0]);
    const v = change.planned[name];
    if (c.stateOnly && v !== undefined && !containsUnknown(v)) out[name] = v;
  }
  return out;
}

/**
 * The change to apply for a plan a front end already approved and kept (Terraform hands back only
 * prior and planned state). A replacement arrives as a delete, then a create.
 */
export function approvedChange(type: ResourceType, prior: Attrs | null, planned: Attrs | null): PlannedChange {
  const action = prior === null ? 'create' : planned === null ? 'delete' : 'update';
  const changes =
    prior && planned
      ? Object.entries(declarationFor(type).schema)
          .filter(([n]) => !sameValue(prior[n], planned[n]))
          .map(([n, a]): AttributeChange => ({ path: [n], before: prior[n], after: planned[n], forceNew: a.forceNew === true }))
      : [];
  return { type, action, prior, planned, changes, requiresReplace: [], reasons: changes.map((c) => `${formatPath(c.path)} changed`), notes: [], problems: [] };
}
