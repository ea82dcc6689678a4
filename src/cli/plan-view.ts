/**
 * How a stack plan reads: like Terraform's (`+ ~ -/+ +/- -` with a legend of those it uses, before -> after per attribute, the reason
 * for each replacement, notes such as power cycles, and a summary line), or as JSON for scripts.
 * Sensitive attributes (from the schema) never show their values in either form.
 */
import type { AttributeChange, StackChange, StackPlan } from '../engine';
import { AttrPath, AttrType, Attribute, Schema, UNKNOWN, Value, declarationFor, declarations, formatPath, isUnknown } from '../resources';
import type { Styles } from './terminal';

export const SENSITIVE = '(sensitive value)';
const KNOWN_AFTER_APPLY = '(known after apply)';

export interface PlanSummary {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
}

export function summarize(plan: StackPlan): PlanSummary {
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const c of plan.changes) {
    if (c.change.action === 'create') add++;
    else if (c.change.action === 'update') change++;
    else if (c.change.action === 'delete') destroy++;
    else if (c.change.action === 'replace') {
      add++;
      destroy++;
    }
  }
  return { add, change, destroy };
}

export function hasChanges(plan: StackPlan): boolean {
  return plan.changes.some((c) => c.change.action !== 'no-op');
}

/** Resources in apply order for reading: VCHs, then images, then container VMs; by name within. */
export function orderedChanges(plan: StackPlan): StackChange[] {
  const rank = (c: StackChange) => declarations.findIndex((d) => d.type === c.change.type);
  return [...plan.changes].sort((a, b) => rank(a) - rank(b) || a.address.localeCompare(b.address));
}

/** The attribute at a path, and whether anything along the path is sensitive. */
function attributeAt(schema: Schema, path: AttrPath): { attribute?: Attribute; sensitive: boolean } {
  let attrs: Schema | undefined = schema;
  let type: AttrType | undefined;
  let attribute: Attribute | undefined;
  let sensitive = false;
  for (const step of path) {
    if (typeof step === 'string' && attrs && attrs[step]) {
      attribute = attrs[step];
      sensitive ||= attribute.sensitive === true;
      type = attribute.type;
    } else if (type && (type.kind === 'list' || type.kind === 'set' || type.kind === 'map')) {
      type = type.element;
    } else {
      return { attribute, sensitive };
    }
    attrs = type && type.kind === 'object' ? type.attributes : undefined;
  }
  return { attribute, sensitive };
}

/** A value with its sensitive parts (per the type) replaced by SENSITIVE. */
export function redact(value: Value | undefined, type: AttrType | undefined, sensitive = false): Value | undefined {
  if (value === undefined || value === null || isUnknown(value)) return value;
  if (sensitive) return SENSITIVE;
  if (!type) return value;
  if ((type.kind === 'list' || type.kind === 'set') && Array.isArray(value)) return value.map((e) => redact(e, type.element) as Value);
  if (type.kind === 'map' && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, e]) => [k, redact(e, type.element) as Value]));
  }
  if (type.kind === 'object' && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, e]) => [k, redact(e, type.attributes[k]?.type, type.attributes[k]?.sensitive === true) as Value]));
  }
  return value;
}

export function formatValue(v: Value | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (isUnknown(v)) return KNOWN_AFTER_APPLY;
  if (v === SENSITIVE) return SENSITIVE;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  const entries = Object.entries(v);
  return entries.length === 0
    ? '{}'
    : `{ ${entries.map(([k, e]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k)} = ${formatValue(e)}`).join(', ')} }`;
}

interface AttributeLine {
  readonly path: AttrPath;
  readonly before: Value | undefined;
  readonly after: Value | undefined;
  readonly forceNew: boolean;
  readonly sensitive: boolean;
}

/** The attributes worth showing for one change, sensitive values redacted. */
function attributeLines(c: StackChange): AttributeLine[] {
  const schema = declarationFor(c.change.type).schema;
  const line = (path: AttrPath, before: Value | undefined, after: Value | undefined, forceNew: boolean): AttributeLine => {
    const { attribute, sensitive } = attributeAt(schema, path);
    return { path, before: redact(before, attribute?.type, sensitive), after: redact(after, attribute?.type, sensitive), forceNew, sensitive };
  };
  const { action, planned, prior } = c.change;
  if (action === 'create') {
    // Outputs only vSphere can tell (all "known after apply") are noise in a create, except the id.
    return Object.keys(schema)
      .filter((name) => planned?.[name] !== undefined && planned?.[name] !== null)
      .filter((name) => name === 'id' || !(isUnknown(planned?.[name]) && schema[name].computed && !schema[name].optional))
      .map((name) => line([name], undefined, planned?.[name], false));
  }
  if (action === 'delete') {
    return ['id', 'name']
      .filter((name) => schema[name] && prior?.[name] !== undefined && prior?.[name] !== null)
      .map((name) => line([name], prior?.[name], undefined, false));
  }
  const forced = new Set(c.change.requiresReplace.map((p) => formatPath(p)));
  return c.change.changes.map((a: AttributeChange) => line(a.path, a.before, a.after, a.forceNew || forced.has(formatPath(a.path))));
}

const HEADLINE: Record<string, string> = {
  create: 'will be created',
  update: 'will be updated in place',
  replace: 'must be replaced',
  delete: 'will be destroyed',
};

/** A plan line's symbol: the action, with a replacement split by its order. */
type SymbolKind = 'create' | 'update' | 'replace' | 'replace-create-first' | 'delete';

/** The legend lines, as Terraform words them. */
const LEGEND: Record<SymbolKind, string> = {
  create: 'create',
  update: 'update in place',
  delete: 'destroy',
  replace: 'destroy and then create replacement',
  'replace-create-first': 'create replacement and then destroy',
};
const LEGEND_ORDER: readonly SymbolKind[] = ['create', 'update', 'delete', 'replace', 'replace-create-first'];

/** The human plan, Terraform style. Empty plans say so in one line. */
export function renderPlan(plan: StackPlan, s: Styles, verb: 'plan' | 'destroy' = 'plan'): string {
  const out: string[] = [];
  const changes = orderedChanges(plan).filter((c) => c.change.action !== 'no-op');
  if (changes.length === 0) {
    out.push(s.green(s.bold('No changes.')) + ' vSphere matches the spec.');
    return `${out.join('\n')}\n`;
  }
  // Terraform's symbols: a replacement made new-first (PlannedChange.createBeforeDestroy) is `+/-`.
  const kindOf = (c: StackChange): SymbolKind =>
    c.change.action === 'replace' && c.change.createBeforeDestroy ? 'replace-create-first' : (c.change.action as SymbolKind);
  const symbol = (kind: SymbolKind): string => {
    switch (kind) {
      case 'create':
        return s.green('+');
      case 'update':
        return s.yellow('~');
      case 'delete':
        return s.red('-');
      case 'replace-create-first':
        return `${s.green('+')}/${s.red('-')}`;
      default:
        return `${s.red('-')}/${s.green('+')}`;
    }
  };
  // The legend names the symbols this plan uses, in Terraform's order and words.
  const used = new Set(changes.map(kindOf));
  out.push('Resource actions are indicated with the following symbols:');
  for (const kind of LEGEND_ORDER) if (used.has(kind)) out.push(`  ${symbol(kind)} ${LEGEND[kind]}`);
  out.push('');
  out.push('vic will perform the following actions:', '');
  for (const c of changes) {
    const action = c.change.action;
    out.push(`  ${s.bold(`# ${c.address}`)} ${HEADLINE[action]}`);
    out.push(`  ${symbol(kindOf(c))} ${c.address}`);
    // A destroy deletes what the spec still declares: "removed from the configuration" is not why.
    if (action !== 'create' && !(verb === 'destroy' && action === 'delete')) for (const reason of c.change.reasons) out.push(`      ${s.red(`# ${reason}`)}`);
    const lines = attributeLines(c);
    const width = Math.max(0, ...lines.map((l) => formatPath(l.path).length));
    for (const l of lines) {
      const name = formatPath(l.path).padEnd(width);
      let mark: string;
      let text: string;
      if (action === 'create') {
        mark = s.green('+');
        text = formatValue(l.after);
      } else if (action === 'delete') {
        mark = s.red('-');
        text = `${formatValue(l.before)} -> null`;
      } else if (l.before === undefined || l.before === null) {
        mark = s.green('+');
        text = formatValue(l.after);
      } else if (l.after === undefined || l.after === null) {
        mark = s.red('-');
        text = `${formatValue(l.before)} -> null`;
      } else {
        mark = s.yellow('~');
        text = `${formatValue(l.before)} -> ${formatValue(l.after)}`;
      }
      out.push(`      ${mark} ${name} = ${text}${l.forceNew ? s.red(' # forces replacement') : ''}`);
    }
    for (const note of c.change.notes) out.push(`      ${s.yellow(`! ${note}`)}`);
    out.push('');
  }
  const sum = summarize(plan);
  out.push(`${s.bold(verb === 'destroy' ? 'Destroy plan:' : 'Plan:')} ${sum.add} to add, ${sum.change} to change, ${sum.destroy} to destroy.`);
  return `${out.join('\n')}\n`;
}

function jsonValue(v: Value | undefined): unknown {
  if (v === undefined) return null;
  if (isUnknown(v)) return null;
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, jsonValue(e)]));
  return v;
}

/** The machine form of a plan: stable keys, unknowns flagged, sensitive values replaced. */
export function planAsJson(plan: StackPlan): object {
  return {
    format_version: '1',
    changes: orderedChanges(plan).map((c) => {
      const dot = c.address.indexOf('.');
      return {
        address: c.address,
        type: c.change.type,
        name: c.address.slice(dot + 1),
        action: c.change.action,
        reasons: c.change.reasons,
        notes: c.change.notes,
        requires_replace: c.change.requiresReplace.map((p) => formatPath(p)),
        depends_on: c.dependsOn,
        attributes:
          c.change.action === 'no-op'
            ? []
            : attributeLines(c).map((l) => ({
                path: formatPath(l.path),
                before: jsonValue(l.before),
                after: jsonValue(l.after),
                after_unknown: l.after === UNKNOWN,
                sensitive: l.sensitive,
                force_new: l.forceNew,
              })),
      };
    }),
    summary: summarize(plan),
    problems: plan.problems.map((p) => ({
      address: p.address,
      path: formatPath(p.path),
      severity: p.severity ?? 'error',
      summary: p.summary,
      detail: p.detail,
    })),
  };
}
