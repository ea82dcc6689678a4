/**
 * A stack: many resources planned and applied together, as the CLI (and any front end without its
 * own graph) needs. References like `${virtual_container_host.demo.id}` order the work: a VCH before
 * its images, images before their container VMs, deletes in reverse. Independent work runs in
 * parallel up to a bound. State is handed to `onState` after every resource, so a crash midway loses
 * nothing that was done; the next apply finds what the crash left (container VMs by BIOS UUID).
 * A replacement the engine plans create-before-destroy (an image with a new digest) makes the new
 * object first and deletes the old one once the resources that used it have moved. Any other
 * replacement destroys first, in two steps: its delete runs with the deletes (after the dependents
 * replaced with it let go of the old object), its create with the creates (before theirs).
 */
import {
  AttrPath,
  Attrs,
  Problem,
  ResourceType,
  UNKNOWN,
  Value,
  containsUnknown,
  declarationFor,
  declarations,
  formatPath,
  isUnknown,
  didYouMean,
  nearestName,
} from '../resources';
import { duplicateAdvice, identityKey, plannedObjectKey } from './claims';
import { withStateOnlyChanges } from './diff';
import { runScheduled } from './scheduler';
import { Action, ApplyOptions, Engine, PlannedChange, ProgressEvent, ResourceError } from './types';

/** `type.name`, e.g. `container_vm.web`. */
export type Address = string;

export interface StackResource {
  readonly type: ResourceType;
  readonly name: string;
  readonly config: Attrs;
}

export interface StateEntry {
  readonly type: ResourceType;
  readonly name: string;
  readonly schemaVersion: number;
  readonly attrs: Attrs;
  /** Addresses this resource depended on when applied: deletes go in reverse of these. */
  readonly dependsOn: readonly Address[];
}

export interface StackState {
  readonly version: 1;
  readonly resources: Readonly<Record<Address, StateEntry>>;
}

export const EMPTY_STATE: StackState = { version: 1, resources: {} };

export interface StackChange {
  readonly address: Address;
  readonly change: PlannedChange;
  readonly dependsOn: readonly Address[];
}

export interface StackProblem extends Problem {
  readonly address: Address;
}

export interface StackPlan {
  readonly changes: readonly StackChange[];
  readonly problems: readonly StackProblem[];
  /** Refreshed state the plan was made from. */
  readonly refreshed: StackState;
}

export interface StackApplyOptions extends ApplyOptions {
  /** Resources applied at once; default 8. */
  readonly concurrency?: number;
  /** Called with the whole state after every resource changes: persist it. */
  readonly onState?: (state: StackState) => void | Promise<void>;
  /** Progress of each resource's apply, with its address (an image has no `name` to tell them apart). */
  readonly onResourceProgress?: (address: Address, event: ProgressEvent) => void;
  /** Called when a resource starts and ends, with what is done to it. */
  readonly onResource?: (address: Address, event: 'start' | 'done' | 'failed', detail?: string, action?: Action) => void;
  /** What the command is called in its failure message: a destroy's plan is applied as well. Default "apply". */
  readonly command?: 'apply' | 'destroy';
}

/** Suffix of the state address that keeps a replaced object until it is deleted (not a valid name). */
const OLD_COPY = '#replaced';

const REF = /\$\{([a-z_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g;

export function addressOf(r: { type: string; name: string }): Address {
  return `${r.type}.${r.name}`;
}

/** The addresses a config refers to. */
export function referencesOf(config: Value): Address[] {
  const out = new Set<Address>();
  const walk = (v: Value): void => {
    if (typeof v === 'string') for (const m of v.matchAll(REF)) out.add(`${m[1]}.${m[2]}`);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object' && !isUnknown(v)) Object.values(v).forEach(walk);
  };
  walk(config);
  return [...out];
}

/** One `${type.name.attribute}` in a config, and the attribute path of the string that holds it. */
export interface Reference {
  readonly path: AttrPath;
  /** As written, e.g. `${image.busybox.id}`. */
  readonly text: string;
  readonly type: string;
  readonly name: string;
  readonly attribute: string;
}

/** Every reference in a config, with where it is; one entry per place and text. */
export function referencesIn(config: Attrs): Reference[] {
  const out = new Map<string, Reference>();
  const walk = (v: Value, path: AttrPath): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(REF)) out.set(`${formatPath(path)} ${m[0]}`, { path, text: m[0], type: m[1], name: m[2], attribute: m[3] });
    } else if (Array.isArray(v)) v.forEach((e, i) => walk(e, [...path, i]));
    else if (v && typeof v === 'object' && !isUnknown(v)) for (const [k, e] of Object.entries(v)) walk(e, [...path, k]);
  };
  for (const [k, v] of Object.entries(config)) walk(v, [k]);
  return [...out.values()];
}

/**
 * What is wrong with a reference in a spec that declares `declared` (address → type), if anything:
 * a resource the spec does not declare, or an attribute its type does not have. The problem names
 * the nearest reference that would be right, when every part of it is a likely typo.
 */
function referenceProblem(from: Address, ref: Reference, declared: ReadonlyMap<Address, string>): StackProblem | undefined {
  const types = declarations.map((d) => d.type as string);
  const target = `${ref.type}.${ref.name}`;
  const attributesOf = (type: string) => Object.keys(declarationFor(type).schema);
  if (declared.has(target)) {
    const attributes = attributesOf(ref.type);
    if (attributes.includes(ref.attribute)) return undefined;
    const near = nearestName(ref.attribute, attributes);
    return {
      address: from,
      path: ref.path,
      severity: 'error',
      summary: 'Reference to an unknown attribute',
      detail: `${from} refers to ${ref.text}, but ${ref.type} has no attribute "${ref.attribute}".${near ? ` Did you mean \${${target}.${near}}?` : ''} Its attributes: ${attributes.join(', ')}.`,
    };
  }
  // The nearest right reference: each wrong part replaced by its nearest known value.
  const type = types.includes(ref.type) ? ref.type : nearestName(ref.type, types);
  const namesOfType = [...declared].filter(([, t]) => t === type).map(([a]) => a.slice(a.indexOf('.') + 1));
  const name = type === undefined ? undefined : namesOfType.includes(ref.name) ? ref.name : nearestName(ref.name, namesOfType);
  const attribute =
    type === undefined ? undefined : attributesOf(type).includes(ref.attribute) ? ref.attribute : nearestName(ref.attribute, attributesOf(type));
  const suggestion = type && name && attribute ? `\${${type}.${name}.${attribute}}` : undefined;
  return {
    address: from,
    path: ref.path,
    severity: 'error',
    summary: 'Reference to an undeclared resource',
    detail: `${from} refers to ${target}, which the spec does not declare.${suggestion ? ` Did you mean ${suggestion}?` : ''} Known: ${[...declared.keys()].join(', ') || 'none'}.`,
  };
}

/** Replaces references with values from state; a reference to something not applied yet is UNKNOWN. */
function resolveRefs(v: Value, state: StackState): Value {
  if (typeof v === 'string') {
    const whole = /^\$\{([a-z_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(v);
    if (whole) {
      const entry = state.resources[`${whole[1]}.${whole[2]}`];
      const val = entry?.attrs[whole[3]];
      return val === undefined || val === null ? UNKNOWN : val;
    }
    let unknown = false;
    const text = v.replace(REF, (_m, type: string, name: string, attr: string) => {
      const val = state.resources[`${type}.${name}`]?.attrs[attr];
      if (val === undefined || val === null || isUnknown(val)) unknown = true;
      return String(val ?? '');
    });
    return unknown ? UNKNOWN : text;
  }
  if (Array.isArray(v)) return v.map((e) => resolveRefs(e, state));
  if (v && typeof v === 'object' && !isUnknown(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, resolveRefs(e, state)]));
  return v;
}

/** Checks names, types and references, collecting every problem. */
export function validateStack(resources: readonly StackResource[]): StackProblem[] {
  const problems: StackProblem[] = [];
  const addresses = new Set<Address>();
  const types = declarations.map((d) => d.type as string);
  for (const r of resources) {
    const address = addressOf(r);
    if (!types.includes(r.type)) {
      problems.push({
        address,
        path: [],
        severity: 'error',
        summary: 'Unknown resource type',
        detail: `"${r.type}" is not a resource type; use one of ${types.join(', ')}.${didYouMean(r.type, types)}`,
      });
      continue;
    }
    if (addresses.has(address))
      problems.push({
        address,
        path: [],
        severity: 'error',
        summary: 'Duplicate resource',
        detail: `${address} is declared twice; give each resource its own name.`,
      });
    addresses.add(address);
  }
  const declared = new Map(resources.filter((r) => types.includes(r.type)).map((r) => [addressOf(r), r.type as string]));
  for (const r of resources) {
    const address = addressOf(r);
    const reported = new Set<string>();
    for (const ref of referencesIn(r.config)) {
      const problem = referenceProblem(address, ref, declared);
      // One problem per undeclared resource (or unknown attribute) of a resource, where it is first written.
      const key = problem?.summary === 'Reference to an undeclared resource' ? `${ref.type}.${ref.name}` : ref.text;
      if (!problem || reported.has(key)) continue;
      reported.add(key);
      problems.push(problem);
    }
  }
  // Resources whose identities are equal (a container VM's VCH and name) would fight over one object.
  const seen = new Map<string, Address>();
  for (const r of resources) {
    if (!types.includes(r.type)) continue;
    const decl = declarationFor(r.type);
    const key = identityKey(decl, r.config);
    if (!key || !decl.identity) continue;
    const other = seen.get(key);
    if (other) {
      const last = decl.identity[decl.identity.length - 1];
      problems.push({
        address: addressOf(r),
        path: [last],
        severity: 'error',
        summary: `Duplicate ${r.type}`,
        detail: `${addressOf(r)} and ${other} both declare ${decl.identity.map((n) => `${n} = ${JSON.stringify(r.config[n])}`).join(' and ')}; the two would share one vSphere object. ${duplicateAdvice(decl as typeof decl & { identity: readonly string[] })}`,
      });
    }
    seen.set(key, addressOf(r));
  }
  const cycle = findCycle(resources);
  if (cycle)
    problems.push({
      address: cycle[0],
      path: [],
      severity: 'error',
      summary: 'Reference cycle',
      detail: `resources refer to each other in a circle: ${cycle.join(' → ')}. Break the cycle.`,
    });
  return problems;
}

function findCycle(resources: readonly StackResource[]): Address[] | undefined {
  const deps = new Map(resources.map((r) => [addressOf(r), referencesOf(r.config)]));
  const state = new Map<Address, 'visiting' | 'done'>();
  const stack: Address[] = [];
  const visit = (a: Address): Address[] | undefined => {
    if (state.get(a) === 'done') return undefined;
    if (state.get(a) === 'visiting') return [...stack.slice(stack.indexOf(a)), a];
    state.set(a, 'visiting');
    stack.push(a);
    for (const d of deps.get(a) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(a, 'done');
    return undefined;
  };
  for (const a of deps.keys()) {
    const c = visit(a);
    if (c) return c;
  }
  return undefined;
}

/** Refreshes the state in one batched read: what vSphere holds now. Gone objects leave the state. */
export async function refreshStack(engine: Engine, state: StackState): Promise<StackState> {
  const entries = Object.entries(state.resources);
  const read = await engine.read(entries.map(([, e]) => ({ type: e.type, state: e.attrs })));
  const resources: Record<Address, StateEntry> = {};
  entries.forEach(([address, e], i) => {
    const attrs = read[i];
    if (attrs) resources[address] = { ...e, attrs };
  });
  return { version: 1, resources };
}

/**
 * The attributes to keep in the state for an object just imported for `resource`: as read, but with
 * what the plan against the spec changes only in the state taken from the spec (an input vSphere
 * does not hold, the same object spelled another way), so that the next plan shows only what
 * differs in vSphere. References resolve against `state`: a resource whose references are not
 * imported yet is planned with those inputs unknown, and keeps more of what was read.
 */
export async function importedAttrs(engine: Engine, resource: StackResource, state: StackState, imported: Attrs): Promise<Attrs> {
  const address = addressOf(resource);
  const config = resolveRefs(resource.config, state) as Attrs;
  // A plan that cannot run now (a registry down) leaves the attributes as read: the next plan says why.
  const change = await engine.plan(resource.type, imported, config, { owner: address, label: address }).catch(() => undefined);
  return !change || change.problems.some((p) => (p.severity ?? 'error') === 'error') ? imported : withStateOnlyChanges(imported, change);
}

/** Plans every resource of the spec against the refreshed state, plus deletes for what left the spec. */
export async function planStack(
  engine: Engine,
  resources: readonly StackResource[],
  state: StackState,
  options: { refresh?: boolean } = {},
): Promise<StackPlan> {
  const problems: StackProblem[] = validateStack(resources);
  const refreshed = options.refresh === false ? state : await refreshStack(engine, state);
  if (problems.length > 0) return { changes: [], problems, refreshed };
  const changes: StackChange[] = [];
  // Planned in dependency order: a reference resolves to what its target's plan knows already (an
  // image's digest, a volume's path), as Terraform's planned values do, so that a dependency made
  // anew with the same id (a renamed address) changes nothing, and plan-time checks see the ids.
  const planning: Record<Address, StateEntry> = { ...refreshed.resources };
  const plans: (StackChange & { config: Attrs })[] = [];
  const declaredHere = new Set(resources.map(addressOf));
  let left = [...resources];
  while (left.length > 0) {
    const done = new Set(plans.map((p) => p.address));
    const ready = left.filter((r) => referencesOf(r.config).every((d) => done.has(d) || !declaredHere.has(d)));
    // A cycle (validateStack reports it) is planned as it stands.
    const level = ready.length > 0 ? ready : left;
    const planned = await Promise.all(
      level.map(async (r) => {
        const address = addressOf(r);
        const dependsOn = referencesOf(r.config);
        const prior = refreshed.resources[address]?.attrs ?? null;
        const config = resolveRefs(r.config, { version: 1, resources: planning }) as Attrs;
        const change = await engine.plan(r.type, prior, config, { owner: address, label: address });
        return { address, change, dependsOn, config };
      }),
    );
    for (const p of planned) {
      // What the plan knows over what the refresh read: a value the apply will tell (a replaced
      // object's new id) stays the old one here, and its dependents' replacement is added below.
      const known = Object.fromEntries(Object.entries(p.change.planned ?? {}).filter(([, v]) => !isUnknown(v)));
      if (p.change.planned)
        planning[p.address] = { type: p.change.type, name: '', schemaVersion: 0, attrs: { ...planning[p.address]?.attrs, ...known }, dependsOn: p.dependsOn };
      plans.push(p);
    }
    left = left.filter((r) => !level.includes(r));
  }
  // In the spec's order, whatever order they were planned in.
  const order = new Map(resources.map((r, i) => [addressOf(r), i]));
  plans.sort((a, b) => (order.get(a.address) ?? 0) - (order.get(b.address) ?? 0));
  for (const { config: _config, ...p } of plans) {
    for (const problem of p.change.problems) problems.push({ ...problem, address: p.address });
    changes.push(p);
  }
  // Deletes: in the state, not in the spec.
  const declared = new Set(resources.map(addressOf));
  for (const [address, entry] of Object.entries(refreshed.resources)) {
    if (declared.has(address)) continue;
    const change = await engine.plan(entry.type, entry.attrs, null, { owner: address, label: address });
    // A delete vSphere is certain to refuse stops the plan (a VCH that holds containers docker made).
    for (const problem of change.problems) problems.push({ ...problem, address });
    changes.push({ address, change, dependsOn: entry.dependsOn });
  }
  // A dependent of something being replaced must be replaced too when it holds its id, and the
  // plan does not know that id yet.
  const configs = new Map(plans.map((p) => [p.address, p.config]));
  return { changes: propagateReplacements(changes, resources, configs), problems, refreshed };
}

function propagateReplacements(changes: StackChange[], resources: readonly StackResource[], configs: ReadonlyMap<Address, Attrs>): StackChange[] {
  const byAddress = new Map(changes.map((c) => [c.address, c]));
  const specs = new Map(resources.map((r) => [addressOf(r), r]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const c of byAddress.values()) {
      if (c.change.action !== 'no-op' && c.change.action !== 'update') continue;
      const replacedDep = c.dependsOn.find((d) => ['replace', 'create'].includes(byAddress.get(d)?.change.action ?? ''));
      if (!replacedDep || !specs.has(c.address)) continue;
      const decl = declarationFor(c.change.type);
      const spec = specs.get(c.address) as StackResource;
      // A dependency replaced goes first, and takes its dependents along even under the same id (an
      // image's disk is their disks' parent); one made anew under an id the plan knows is only their
      // new reference, which their own plan weighed.
      const depAction = byAddress.get(replacedDep)?.change.action;
      const paths = Object.entries(spec.config)
        .filter(
          ([k, v]) =>
            decl.schema[k]?.forceNew &&
            referencesOf(v).includes(replacedDep) &&
            (depAction === 'replace' || containsUnknown(configs.get(c.address)?.[k] ?? UNKNOWN)),
        )
        .map(([k]) => [k]);
      if (paths.length === 0) continue;
      byAddress.set(c.address, {
        ...c,
        change: {
          ...c.change,
          action: 'replace',
          requiresReplace: [...c.change.requiresReplace, ...paths],
          reasons: [
            ...c.change.reasons,
            `${replacedDep} is ${byAddress.get(replacedDep)?.change.action === 'create' ? 're-created' : 'replaced'} (forces replacement)`,
          ],
        },
      });
      changed = true;
    }
  }
  return changes.map((c) => byAddress.get(c.address) as StackChange);
}

/**
 * Applies a plan in dependency order with bounded concurrency. Each resource is planned again right
 * before it is applied, with its references resolved to the values just applied (ids that were
 * unknown at plan time). Stops starting new work at the first failure and reports every failure.
 */
export async function applyStack(engine: Engine, plan: StackPlan, resources: readonly StackResource[], options: StackApplyOptions = {}): Promise<StackState> {
  const blocking = plan.problems.filter((p) => (p.severity ?? 'error') === 'error');
  if (blocking.length > 0) {
    throw new ResourceError(
      `the plan has errors; nothing was changed:\n${blocking.map((p) => `${p.address}${p.path.length ? `.${formatPath(p.path)}` : ''}: ${p.detail}`).join('\n')}`,
      blocking,
    );
  }
  const work = new StackApply(engine, plan, resources, options);
  const outcome = await runScheduled(work.pending, {
    concurrency: options.concurrency ?? 8,
    signal: options.signal,
    ready: (c) => work.ready(c),
    run: (c) => work.run(c),
  });
  const failures = outcome.failed.map((f) => `${f.key}: ${messageOf(f.error)}`);
  if (outcome.notStarted.length > 0 && outcome.interrupted) {
    failures.push(`interrupted before ${outcome.notStarted.length} more change(s) started: ${outcome.notStarted.join(', ')}`);
  }
  if (outcome.notStarted.length > 0 && failures.length === 0) throw new ResourceError(`cannot order the remaining changes: ${outcome.notStarted.join(', ')}`);
  if (failures.length > 0) {
    const err = new ResourceError(`${options.command ?? 'apply'} failed; what was done is kept in the state:\n${failures.join('\n')}`);
    (err as ResourceError & { state?: StackState }).state = work.state;
    throw err;
  }
  return work.state;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One apply of a stack plan: what is still pending, the ordering rules, and the state as it grows. */
class StackApply {
  state: StackState;
  /** The changes not done yet, by address; a destroy-first replacement as two (see below). */
  readonly pending: Map<Address, StackChange>;
  private readonly deleting: Set<Address>;
  /** Old copies of destroy-first replacements: deleted before their new object is made. */
  private readonly destroyFirst = new Set<Address>();
  /**
   * Deletes of an object that a create of this plan makes anew under another address (a renamed
   * image: the same digest), by the create's address: the create goes first and takes the object
   * over, and the delete then keeps it (ApplyOptions.oneRun).
   */
  private readonly handedOver = new Map<Address, Address>();
  private readonly specs: ReadonlyMap<Address, StackResource>;

  constructor(
    private readonly engine: Engine,
    plan: StackPlan,
    resources: readonly StackResource[],
    private readonly options: StackApplyOptions,
  ) {
    this.state = plan.refreshed;
    this.specs = new Map(resources.map((r) => [addressOf(r), r]));
    this.pending = new Map(plan.changes.filter((c) => c.change.action !== 'no-op').map((c) => [c.address, c]));
    this.deleting = new Set([...this.pending.values()].filter((c) => c.change.action === 'delete').map((c) => c.address));
    const keyOf = (change: PlannedChange, attrs: Attrs | null) => (attrs ? plannedObjectKey(declarationFor(change.type), attrs) : undefined);
    for (const d of this.pending.values()) {
      const object = d.change.action === 'delete' ? keyOf(d.change, d.change.prior) : undefined;
      const create = object && [...this.pending.values()].find((o) => o.change.action === 'create' && keyOf(o.change, o.change.planned) === object);
      if (create) this.handedOver.set(d.address, create.address);
    }
    // A destroy-first replacement as a delete of the old object (under OLD_COPY) and a create.
    for (const c of [...this.pending.values()]) {
      if (c.change.action !== 'replace' || c.change.createBeforeDestroy) continue;
      const old = `${c.address}${OLD_COPY}`;
      this.pending.set(old, { address: old, change: { ...c.change, action: 'delete', planned: null }, dependsOn: c.dependsOn });
      this.deleting.add(old);
      this.destroyFirst.add(old);
      this.pending.set(c.address, { ...c, change: { ...c.change, action: 'create', prior: null } });
    }
  }

  /**
   * Creates/updates wait for their dependencies; deletes wait for their dependents' deletes; the
   * old copy a create-before-destroy replacement left waits until nothing that used it is pending.
   */
  ready(c: StackChange): boolean {
    const others = [...this.pending.values()].filter((o) => o.address !== c.address);
    if (this.destroyFirst.has(c.address)) {
      const replaced = c.address.slice(0, -OLD_COPY.length);
      const dependentsLetGo = !others.some((o) => o.dependsOn.includes(replaced) && (this.deleting.has(o.address) || o.change.action === 'replace'));
      // Not gone before what it will be made on is ready (a new image being pulled), unless that
      // one waits for this delete too (it is replaced destroy-first as well).
      const madeOnReady = !c.dependsOn.some((d) => this.pending.has(d) && !this.deleting.has(d) && !this.destroyFirst.has(`${d}${OLD_COPY}`));
      return dependentsLetGo && madeOnReady;
    }
    if (c.address.endsWith(OLD_COPY)) {
      const replaced = c.address.slice(0, -OLD_COPY.length);
      return !others.some((o) => o.dependsOn.includes(replaced));
    }
    if (c.change.action === 'delete') {
      const takenOverBy = this.handedOver.get(c.address);
      if (takenOverBy !== undefined && this.pending.has(takenOverBy)) return false;
      return !others.some((o) => o.dependsOn.includes(c.address) && (this.deleting.has(o.address) || o.change.action === 'replace'));
    }
    if (this.pending.has(`${c.address}${OLD_COPY}`) && this.destroyFirst.has(`${c.address}${OLD_COPY}`)) return false;
    return !c.dependsOn.some((d) => this.pending.has(d) && !this.deleting.has(d));
  }

  async run(c: StackChange): Promise<void> {
    const { options } = this;
    options.onResource?.(c.address, 'start', undefined, c.change.action);
    const applyOptions: ApplyOptions = {
      signal: options.signal,
      // The delete of what a create of this run took over (a renamed address) keeps it.
      oneRun: this.handedOver.has(c.address),
      onWarning: options.onWarning,
      onProgress: (e) => {
        options.onProgress?.(e);
        options.onResourceProgress?.(c.address, e);
      },
    };
    try {
      if (c.change.action === 'delete') await this.delete(c, applyOptions);
      else await this.createOrUpdate(c, applyOptions);
      options.onResource?.(c.address, 'done', undefined, c.change.action);
    } catch (err) {
      options.onResource?.(c.address, 'failed', messageOf(err), c.change.action);
      throw err;
    }
  }

  private async delete(c: StackChange, applyOptions: ApplyOptions): Promise<void> {
    await this.engine.apply(c.change, applyOptions);
    await this.setEntry(this.destroyFirst.has(c.address) ? c.address.slice(0, -OLD_COPY.length) : c.address, undefined);
  }

  private async createOrUpdate(c: StackChange, applyOptions: ApplyOptions): Promise<void> {
    const spec = this.specs.get(c.address) as StackResource;
    const config = resolveRefs(spec.config, this.state) as Attrs;
    if (containsUnknown(config)) throw new ResourceError(`${c.address}: a reference is still unknown after its dependencies were applied`);
    const prior = c.change.action === 'create' ? null : (this.state.resources[c.address]?.attrs ?? null);
    let change = await this.engine.plan(c.change.type, prior, config, { owner: c.address, label: c.address });
    if (c.change.action === 'replace' && change.action !== 'replace') change = { ...change, action: 'replace' };
    const entry = (attrs: Attrs): StateEntry => ({
      type: spec.type,
      name: spec.name,
      schemaVersion: declarationFor(spec.type).schemaVersion,
      attrs,
      dependsOn: c.dependsOn,
    });
    const old = this.state.resources[c.address];
    if (change.action === 'replace' && change.createBeforeDestroy && old) {
      // The new object first; the old one stays in the state under its own address, deleted
      // once the resources that use it have moved (or by the next apply, after a crash).
      const made = await this.engine.apply({ ...change, action: 'create', prior: null }, applyOptions);
      const retiring = `${c.address}${OLD_COPY}`;
      await this.setEntry(retiring, old);
      if (made) await this.setEntry(c.address, entry(made));
      const retire = await this.engine.plan(old.type, old.attrs, null, { owner: retiring, label: retiring });
      this.pending.set(retiring, { address: retiring, change: retire, dependsOn: [] });
      this.deleting.add(retiring);
    } else {
      const attrs = await this.engine.apply(change, applyOptions);
      if (attrs) await this.setEntry(c.address, entry(attrs));
    }
  }

  private async setEntry(address: Address, entry: StateEntry | undefined): Promise<void> {
    const next = { ...this.state.resources };
    if (entry) next[address] = entry;
    else delete next[address];
    this.state = { version: 1, resources: next };
    await this.options.onState?.(this.state);
  }
}
