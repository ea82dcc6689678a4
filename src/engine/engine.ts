/**
 * The engine every front end shares: validate → refresh (batched) → plan → apply.
 */
import { consoleLogPath } from '../resources/console-log';
import {
  Attrs,
  ConnectionSettings,
  Problem,
  ResourceDeclaration,
  ResourceType,
  Schema,
  UNKNOWN,
  containsUnknown,
  declarationFor,
  formatPath,
  validateAttrs,
} from '../resources';
import { VOLATILE, isLastingMemo, type Lifecycle, type LifecycleContext } from '../resources/lifecycle';
import { InventorySnapshot, takeSnapshot } from '../resources/snapshot';
import { listManaged, type ManagedInventory } from '../resources/managed-inventory';
import { readVmUsage, type VmUsage } from '../resources/vm-usage';
import { readPoolCapacity, type PoolCapacity } from '../resources/pool-capacity';
import { VimClient, isNotFound, withTaskCancellation, type SoapLogger } from '../vsphere';
import { readDatastoreFileFrom } from '../vsphere/datastore-http';
import { IdentityClaims, ObjectClaims, attributesKey, type Claimant } from './claims';
import { diffResource } from './diff';
import { verifyRegistryLogin } from './registry-login';
import { pushImage, type PushOptions, type PushResult } from '../images/push';
import type { CommitImageOptions } from '../images/commit';
import type { LoadImagesOptions } from '../images/load';
import { ApplyOptions, CommandOptions, Engine, LookupKey, PlanOptions, PlannedChange, ReadRequest, ResourceError, type ExecRequest } from './types';
import type { KeptFile, LoadedImage, MaintenanceOp, SaveAccess } from '../resources/lifecycle';
import type { Writable } from 'node:stream';

/**
 * How long a refresh snapshot goes on serving reads after its last one: Terraform's refresh walk
 * reads without pause, however long a walk of thousands of resources takes on a busy machine.
 */
const SNAPSHOT_TTL_MS = 30_000;
/**
 * How long a snapshot taken in the background waits for its first read. Terraform reads the VMs
 * only once it has planned their VCH and image and expanded their count, which grows with their
 * number: a wait counted in the TTL made a large plan take the whole snapshot again.
 */
const PREFETCH_TTL_MS = 5 * 60_000;

export interface EngineOptions {
  readonly lifecycles: ReadonlyMap<ResourceType, Lifecycle>;
  readonly datacenter?: string;
  readonly log?: SoapLogger;
  /** Local bootstrap ISO uploaded into VCHs that name none. */
  readonly bootstrapIsoFile?: string;
  /**
   * Told of every inventory read a refresh takes (one round trip each): the pools it covers and
   * whether it holds their VMs. How many a refresh took is the figure that must not grow with N.
   */
  readonly onRefreshRead?: (read: { readonly pools: number; readonly vms: boolean }) => void;
}

/** Owners the engine makes up when the front end names none (see PlanOptions.owner). */
const CREATE_OWNER = 'create:';
function stateOwner(type: ResourceType, state: Attrs): string {
  return `state:${type}:${String(state.id)}`;
}

/**
 * The key of the vSphere object `state` names (ResourceDeclaration.objectKey), or undefined when
 * part of it is not known.
 */
function objectKeyOf(type: ResourceType, state: Attrs | null): string | undefined {
  return state ? attributesKey(type, declarationFor(type).objectKey ?? ['id'], state) : undefined;
}

function errors(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => (p.severity ?? 'error') === 'error');
}

/** Folds problems into one message: what, where, and what to do. */
export function problemsMessage(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path.length ? `${formatPath(p.path)}: ` : ''}${p.summary}: ${p.detail}`).join('\n');
}

/** One inventory read of a refresh, and the resources it has answered (each once per refresh). */
interface RefreshRead {
  readonly pools: ReadonlySet<string>;
  readonly served: Set<string>;
  readonly takenAt: number;
  /** When a read last used it; unset while a background snapshot waits for the reads it was taken for. */
  usedAt?: number;
  settled: boolean;
  readonly snapshot: Promise<InventorySnapshot>;
}

/** Young enough, and none of `keys` read from it yet (reading one again means a new refresh). */
function fresh(read: RefreshRead, keys: readonly string[]): boolean {
  const young = read.usedAt === undefined ? Date.now() - read.takenAt < PREFETCH_TTL_MS : Date.now() - read.usedAt < SNAPSHOT_TTL_MS;
  return young && !keys.some((k) => read.served.has(k));
}

function covers(read: RefreshRead, pools: ReadonlySet<string>): boolean {
  return [...pools].every((p) => read.pools.has(p));
}

/** Marks `keys` as read from it; `background` is a prefetch for those reads, which does not start its TTL. */
function serve(read: RefreshRead, keys: readonly string[], background = false): Promise<InventorySnapshot> {
  keys.forEach((k) => read.served.add(k));
  if (!background) read.usedAt = Date.now();
  return read.snapshot;
}

/**
 * How long an answer the plan got stands for the change that follows it in the same command
 * (LifecycleContext.planAnswer): a create planned and applied at once, as the Docker endpoint does.
 */
const PLAN_ANSWER_MS = 1_000;

/** The VOLATILE memos a change was given, each with when it was answered. */
type PlanAnswers = Map<string, { readonly answer: Promise<unknown>; readonly at: number }>;

/** How long a refused delete waits for a delete that may hold its object to arrive (deleteAfterOthers). */
const DELETE_GRACE_MS = 1000;

export class VsphereEngine implements Engine {
  private readonly memos = new Map<string, Promise<unknown>>();
  /** Values a lookup handed to the change that follows (LifecycleContext.hand). */
  private readonly handed = new Map<string, unknown>();
  private readonly claims = new IdentityClaims();
  /** Planned objects claimed under each identity: two identities resolving to one object (ObjectClaims). */
  private readonly objectClaims = new ObjectClaims();
  private readonly expectedObjects = new Set<string>();
  /** `type:id` of every object the front end's state holds in this command (see inState). */
  private readonly stateIds = new Set<string>();
  /** Objects this engine's creates made or adopted (objectKeyOf): a delete for another state leaves them. */
  private readonly madeObjects = new Set<string>();
  private creates = 0;
  /** Deletes under way that no refused delete waits for yet (deleteAfterOthers). */
  private readonly deletesUnderWay = new Set<Promise<void>>();
  /** How many deletes of this engine have ended (deleteAfterOthers). */
  private deletesEnded = 0;
  /** When each memo of this command's own store was answered (LifecycleContext.planAnswer). */
  private readonly answeredAt = new Map<string, number>();
  /** When this engine last started or ended a change, and how many are under way. */
  private lastChangeAt = 0;
  private changing = 0;

  constructor(
    readonly client: VimClient,
    private readonly options: EngineOptions,
    /** False for an engine of forCommand(): the session belongs to the engine that made it. */
    private readonly ownsSession = true,
    /** What a command of forCommand() shares with the front end's other commands, and how it looks objects up. */
    private readonly command: CommandOptions = {},
  ) {}

  private get lookups(): 'batched' | 'each' {
    return this.command.lookups ?? 'batched';
  }

  /** Lasting lookups shared with the front end's other commands (CommandOptions.lasting). */
  private get lasting(): Map<string, Promise<unknown>> | undefined {
    return this.command.lasting;
  }

  private memoStore(key: string): Map<string, Promise<unknown>> {
    return this.lasting && isLastingMemo(key) ? this.lasting : this.memos;
  }

  private lifecycle(type: ResourceType): Lifecycle {
    const l = this.options.lifecycles.get(type);
    if (!l) throw new ResourceError(`resource type "${type}" has no vSphere implementation`);
    return l;
  }

  private context(opts: ApplyOptions, type: ResourceType, name?: string, answers?: PlanAnswers): LifecycleContext {
    return {
      client: this.client,
      datacenter: this.options.datacenter,
      bootstrapIsoFile: this.options.bootstrapIsoFile,
      memo: <T>(key: string, lookup: () => Promise<T>): Promise<T> => {
        const store = this.memoStore(key);
        let p = store.get(key) as Promise<T> | undefined;
        if (!p) {
          this.answeredAt.delete(key);
          p = lookup();
          store.set(key, p);
          const kept = p;
          p.then(
            () => {
              if (store === this.memos && store.get(key) === kept) this.answeredAt.set(key, Date.now());
            },
            () => {
              if (store.get(key) === kept) store.delete(key);
            },
          );
        }
        return p;
      },
      forget: (prefix: string) => {
        for (const store of this.lasting ? [this.memos, this.lasting] : [this.memos]) {
          for (const key of store.keys()) if (key.startsWith(prefix)) store.delete(key);
        }
        for (const key of this.answeredAt.keys()) if (key.startsWith(prefix)) this.answeredAt.delete(key);
      },
      planAnswer: <T>(key: string): Promise<T> | undefined => {
        const given = answers?.get(key);
        return given && Date.now() - given.at <= PLAN_ANSWER_MS ? (given.answer as Promise<T>) : undefined;
      },
      hand: (key: string, value: unknown) => void this.handed.set(key, value),
      take: <T>(key: string): T | undefined => {
        const value = this.handed.get(key) as T | undefined;
        this.handed.delete(key);
        return value;
      },
      handOn: (key: string, value: unknown) => this.command.handedOn?.put(key, value),
      takeHandedOn: <T>(key: string): T | undefined => {
        // Taken by any command that looks the object up: only one that takes hand-ons uses it.
        const row = this.command.handedOn?.take<T>(key);
        return this.command.takesHandedOn ? row : undefined;
      },
      expect: (key: string) => void this.expectedObjects.add(key),
      expected: (key: string) => this.expectedObjects.has(key),
      lookups: this.lookups,
      forDocker: this.command.holder === 'docker',
      maintenance: this.command.maintenance,
      signal: opts.signal,
      progress: (phase, current, total, message) => opts.onProgress?.({ type, name: name ?? '', phase, current, total, message }),
      warn: (warning) => opts.onWarning?.(warning),
    };
  }

  inState(type: ResourceType, state: Attrs): void {
    this.claims.inState(declarationFor(type), state);
    if (typeof state.id === 'string' && state.id !== '') this.stateIds.add(`${type}:${state.id}`);
  }

  validate(type: ResourceType, config: Attrs): Problem[] {
    return validateAttrs(declarationFor(type).schema, config).problems;
  }

  async plan(type: ResourceType, prior: Attrs | null, config: Attrs | null, options: PlanOptions = {}): Promise<PlannedChange> {
    const decl = declarationFor(type);
    const lifecycle = this.lifecycle(type);
    let validated: Attrs | null = null;
    const problems: Problem[] = [];
    if (config !== null) {
      const v = options.validated ?? validateAttrs(decl.schema, config);
      problems.push(...v.problems);
      validated = v.attrs;
    }
    const replaces = prior === null && options.owner === undefined && options.replaces ? options.replaces : undefined;
    const owner =
      options.owner ??
      (typeof prior?.id === 'string' && prior.id
        ? stateOwner(type, prior)
        : replaces
          ? stateOwner(type, { id: replaces })
          : `${CREATE_OWNER}${type}:${++this.creates}`);
    const empty = { type, prior, planned: null, changes: [], requiresReplace: [], reasons: [], notes: [], owner };
    if (errors(problems).length > 0) return { ...empty, action: 'no-op', problems };

    let diff = diffResource(decl, prior, validated);
    const notes: string[] = [];
    // A front end that names no resources (Terraform) still has the state's id to tell one apart by.
    const stateLabel = typeof prior?.id === 'string' && prior.id ? `the one whose state holds ${prior.id}` : 'one this plan creates';
    const label = options.label;
    const claim = options.referencesOnly
      ? { problems: [] }
      : validated !== null && diff.action !== 'delete'
        ? this.claims.claim(decl, validated, { owner, label, stateLabel, anonymous: options.owner === undefined && prior === null && !replaces })
        : { problems: prior !== null ? this.claims.retire(decl, prior, { owner, label, stateLabel }) : [] };
    problems.push(...claim.problems);
    // The object the prior state names is claimed at once, before the check's lookups: a front end
    // that plans each resource as it comes (Pulumi) meets it before a new resource naming the same
    // object, whose references resolve sooner, is made. Not an object a replacement lets go of (a
    // container VM renamed: another resource may take the old name).
    if (prior !== null && validated !== null && diff.action !== 'delete' && diff.action !== 'replace' && !options.referencesOnly) {
      problems.push(...this.objectClaims.claim(decl, validated, prior, { owner, label, stateLabel }));
    }
    // The create of a replacement the front end planned first with its prior state: that object goes first.
    const replacing = replaces ? (this.claims.stateOf(decl, replaces) ?? { id: replaces }) : 'replaces' in claim ? claim.replaces : undefined;
    // A delete that vSphere is certain to refuse at apply is refused here, before a destroy removes anything.
    if (diff.action === 'delete' && prior !== null && lifecycle.checkDelete && !options.referencesOnly) {
      problems.push(...(await lifecycle.checkDelete(this.context({}, type, String(prior.name ?? '')), prior)));
    }
    // Checks that need an input not known yet run at the next plan, unless the lifecycle checks what it can.
    if (validated === null || diff.action === 'delete' || (containsUnknown(validated) && !lifecycle.checksUnknown)) {
      return { type, prior, ...diff, changes: diff.changes, notes, problems, owner };
    }
    const check = await lifecycle.check(
      {
        ...this.context({}, type, String(validated.name ?? '')),
        replacing,
        referencesOnly: options.referencesOnly,
        createsNow: options.createsNow,
        createdFor: options.createdFor,
      },
      validated,
      prior,
    );
    problems.push(...check.problems);
    notes.push(...(check.notes ?? []));
    const equivalent = new Set((check.equivalent ?? []).map((e) => e.attribute));
    if (equivalent.size > 0) {
      // Another name for the same vSphere object (a MOID for a name, say): update the state, keep the object.
      const relaxed = Object.fromEntries(Object.entries(decl.schema).map(([n, a]) => [n, equivalent.has(n) ? { ...a, forceNew: false } : a]));
      diff = diffResource({ ...decl, schema: relaxed }, prior, validated);
    }
    let { action, planned } = diff;
    const requiresReplace = [...diff.requiresReplace];
    const reasons = diff.reasons.map((r) => check.equivalent?.find((e) => r.startsWith(`${e.attribute}: `))?.reason ?? r);
    for (const f of check.forceReplace ?? []) {
      requiresReplace.push(f.path);
      reasons.push(f.reason);
    }
    if ((check.updates ?? []).length > 0 && action === 'no-op') {
      action = 'update';
      reasons.push(...(check.updates ?? []));
    }
    if ((check.forceReplace ?? []).length > 0 && action !== 'create') {
      action = 'replace';
      planned = { ...(planned as Attrs) };
      for (const [name, attr] of Object.entries(decl.schema)) if (attr.computed && !attr.optional) planned[name] = UNKNOWN;
    }
    // A create that makes again an object the front end's state still holds (the second plan of a
    // destroy-first replacement, a tainted resource) promises no outputs: what refers to them must
    // see a change, so that the resources using the old object are replaced with it.
    const madeAgain =
      prior === null && typeof check.planned?.id === 'string' && (check.planned.id === replaces || this.stateIds.has(`${type}:${check.planned.id}`));
    if (planned && check.planned && !madeAgain) {
      planned = { ...planned };
      for (const [name, v] of Object.entries(check.planned)) if (decl.schema[name]?.computed && !decl.schema[name]?.optional) planned[name] = v;
    }
    if (action === 'update') notes.push(...(check.inPlaceNotes ?? []));
    if (action === 'replace' && options.owner === undefined && prior && !options.referencesOnly) this.claims.replacing(decl, validated, owner, prior);
    for (const p of this.claimPlannedObject(decl, validated, check.planned, { owner, label, stateLabel }, options.createsNow)) {
      if (!problems.includes(p)) problems.push(p);
    }
    const newId = planned?.id;
    const createBeforeDestroy = action === 'replace' && decl.replaceOrder === 'create-before-destroy' && typeof newId === 'string' && newId !== prior?.id;
    // A forceNew input spelled another way for the same object changes only the state.
    const changes = diff.changes.map((c) => (equivalent.has(String(c.path[0])) ? { ...c, stateOnly: true } : c));
    const stateOnly = action === 'update' && changes.length > 0 && changes.every((c) => c.stateOnly) && (check.updates ?? []).length === 0;
    return {
      type,
      action,
      prior,
      planned,
      changes,
      requiresReplace,
      reasons,
      notes,
      problems,
      createBeforeDestroy,
      owner,
      stateOnly,
      createdFor: options.createdFor,
    };
  }

  /**
   * Claims the object the plan makes, once the check has found its id (an image's digest, resolved
   * from its reference): a second resource whose other identity resolves to the same object is
   * refused. Claimed by a check of references only as well: Pulumi checks a new resource before it
   * creates it, and the existing twin it meets must stop the create too.
   */
  private claimPlannedObject(decl: ResourceDeclaration, config: Attrs, checked: Attrs | undefined, who: Claimant, createsNow?: boolean): Problem[] {
    const id = checked?.id;
    return typeof id === 'string' && id !== '' ? this.objectClaims.claim(decl, config, { ...config, id }, who, createsNow) : [];
  }

  contestedObject(type: ResourceType, state: Attrs): Problem | undefined {
    return this.objectClaims.contestedObject(declarationFor(type), state);
  }

  /** Carries a change out; every task wait inside stops when `opts.signal` aborts (interrupt, StopProvider, cancel). */
  apply(change: PlannedChange, opts: ApplyOptions = {}): Promise<Attrs | null> {
    return withTaskCancellation(opts.signal, () => this.applyChange(change, opts));
  }

  private async applyChange(change: PlannedChange, opts: ApplyOptions): Promise<Attrs | null> {
    const answers = this.takePlanAnswers();
    this.changing++;
    this.lastChangeAt = Date.now();
    try {
      return await this.applyOnce(change, opts, answers);
    } finally {
      this.changing--;
      this.lastChangeAt = Date.now();
      // Handed to this change or to none: what a later step reads, it reads again.
      this.handed.clear();
    }
  }

  /**
   * Drops the memos any change may outdate (VOLATILE), and gives those this command's plan got
   * since its last change, while no other change is under way, to the change about to start
   * (LifecycleContext.planAnswer).
   */
  private takePlanAnswers(): PlanAnswers {
    const answers: PlanAnswers = new Map();
    for (const [key, answer] of this.memos) {
      if (!key.startsWith(VOLATILE)) continue;
      const at = this.answeredAt.get(key);
      if (at !== undefined && at > this.lastChangeAt && this.changing === 0) answers.set(key, { answer, at });
      this.memos.delete(key);
      this.answeredAt.delete(key);
    }
    return answers;
  }

  private async applyOnce(change: PlannedChange, opts: ApplyOptions, answers: PlanAnswers): Promise<Attrs | null> {
    const made = await this.applyAction(change, opts, answers);
    return made && change.planned ? keepEmptyCollections(declarationFor(change.type).schema, made, change.planned) : made;
  }

  private async applyAction(change: PlannedChange, opts: ApplyOptions, answers: PlanAnswers): Promise<Attrs | null> {
    // What this engine changes, a later read or plan must see.
    this.cached = undefined;
    this.poolRows = undefined;
    const blocking = errors(change.problems);
    if (blocking.length > 0) throw new ResourceError(`the plan for ${change.type} has errors; nothing was changed:\n${problemsMessage(blocking)}`, blocking);
    const l = this.lifecycle(change.type);
    const name = String(change.planned?.name ?? change.prior?.name ?? '');
    const ctx = { ...this.context(opts, change.type, name, answers), createdFor: change.createdFor };
    switch (change.action) {
      case 'no-op':
        return change.prior;
      case 'delete':
        if (opts.oneRun && this.keptForReplacement(change, opts)) return null;
        await this.deleteAfterOthers(() => l.delete(ctx, change.prior as Attrs));
        this.claims.release(change.owner ?? stateOwner(change.type, change.prior as Attrs));
        this.objectClaims.release(change.owner ?? stateOwner(change.type, change.prior as Attrs));
        return null;
      case 'create':
        try {
          return this.created(change, await l.create(ctx, this.desired(change)));
        } catch (err) {
          // A failed create holds nothing: planned again (a retry), it is the same resource, not a second one.
          if (change.owner?.startsWith(CREATE_OWNER)) {
            this.claims.release(change.owner);
            this.objectClaims.release(change.owner);
          }
          throw err;
        }
      case 'update':
        return l.update(ctx, change.prior as Attrs, this.desired(change));
      case 'replace': {
        if (change.createBeforeDestroy) {
          // The old object may still be in use until this returns: a caller that moves its users
          // first (the stack) applies the create and the delete as two steps instead.
          const made = this.created(change, await l.create(ctx, this.desired(change)));
          if (!this.keptForReplacement(change, opts)) await l.delete(ctx, change.prior as Attrs);
          return made;
        }
        // Destroy first: a container VM's identity (BIOS UUID) is derived from its name, so the
        // old and the new VM cannot coexist.
        await l.delete(ctx, change.prior as Attrs);
        return this.created(change, await l.create(ctx, this.desired(change)));
      }
    }
  }

  /**
   * A delete refused (an image a container VM uses, a VCH that holds VMs) while other deletes of this
   * engine are under way is tried once more after they end: Terraform orders a deposed object's
   * destroy after nothing, so `terraform destroy` may delete an image beside the deposed container
   * VM that still uses it. The retry checks everything again; a delete that waits leaves the set
   * first, so two refused deletes never wait for each other.
   */
  private async deleteAfterOthers(remove: () => Promise<void>): Promise<void> {
    let settle = () => {};
    const mine = new Promise<void>((resolve) => (settle = resolve));
    const othersBefore = this.deletesUnderWay.size;
    const endedBefore = this.deletesEnded;
    this.deletesUnderWay.add(mine);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.deletesUnderWay.delete(mine);
      this.deletesEnded += 1;
      settle();
    };
    try {
      await remove();
    } catch (err) {
      // Another delete that ran beside this one counts even when it ended before the refusal came
      // back: this delete may have looked while that one's object still stood.
      const othersRan = othersBefore > 0 || this.deletesEnded !== endedBefore;
      leave();
      if (!(err instanceof ResourceError)) throw err;
      // Terraform sends the deletes it may run at once in no set order: the one of the object that
      // holds this one (a deposed VM using this image) may be a moment behind.
      if (this.deletesUnderWay.size === 0 && !othersRan) {
        const endedNow = this.deletesEnded;
        await new Promise((resolve) => setTimeout(resolve, DELETE_GRACE_MS));
        if (this.deletesUnderWay.size === 0 && this.deletesEnded === endedNow) throw err;
      }
      await Promise.all([...this.deletesUnderWay]);
      await remove();
    } finally {
      leave();
    }
  }

  /**
   * Whether the delete of `change.prior` must leave its object: a create of this command made or
   * adopted that very object for its replacement. Terraform's create_before_destroy and Pulumi's
   * create-before-replace create the new resource first; when it has the same identity (a volume's
   * name, an image's digest, a VCH's name), the create finds the old object and holds it, and
   * deleting it for the old state would delete the new resource's object.
   */
  private keptForReplacement(change: PlannedChange, opts: ApplyOptions): boolean {
    const key = objectKeyOf(change.type, change.prior);
    if (!key || !this.madeObjects.has(key)) return false;
    const prior = change.prior as Attrs;
    const name = typeof prior.name === 'string' && prior.name !== '' ? prior.name : String(prior.id);
    opts.onWarning?.({
      summary: `${change.type} "${name}" kept: its replacement is the same object`,
      detail:
        `The ${change.type} being deleted (${String(prior.id)}) is the vSphere object its replacement created or adopted earlier in this run ` +
        '(a replacement created before the old object is destroyed, with the same identity), so it was left in place for the replacement; nothing was deleted. ' +
        'To get a fresh, empty object instead, destroy the resource first and apply again, or replace it without create_before_destroy.',
    });
    return true;
  }

  /** A create without a front-end owner is known by its new id from now on, as its later plans are. */
  private created(change: PlannedChange, made: Attrs): Attrs {
    const key = objectKeyOf(change.type, made);
    if (key) this.madeObjects.add(key);
    if (change.owner?.startsWith(CREATE_OWNER)) {
      this.claims.release(change.owner);
      this.claims.claim(declarationFor(change.type), made, { owner: stateOwner(change.type, made) });
      this.objectClaims.release(change.owner);
      this.objectClaims.claim(declarationFor(change.type), made, made, { owner: stateOwner(change.type, made) });
    }
    return made;
  }

  /** The planned state minus what is not known yet: the inputs the lifecycle acts on. */
  private desired(change: PlannedChange): Attrs {
    const out: Attrs = {};
    for (const [k, v] of Object.entries(change.planned ?? {})) if (v !== UNKNOWN) out[k] = v;
    return out;
  }

  /**
   * Batched refresh. Terraform sends one ReadResource per resource, at most -parallelism at a time,
   * so the first read snapshots every VCH pool it needs (all their VMs, one round trip) and later
   * reads are served from that snapshot: the round trips of a refresh do not grow with the number of
   * resources. A snapshot serves each resource once (reading one again means a new refresh), and
   * never after this engine changed something or once no read has used it for SNAPSHOT_TTL_MS.
   *
   * VCHs and images are read from their pool rows alone, and Terraform reads them first (the
   * container VMs depend on them): they get a pool-only read, and the snapshot with the VMs is taken
   * meanwhile, in the background. Terraform plans the VCH and the image and expands the VMs' count
   * before it asks for them, which hides the snapshot of a large pool (bench/README.md, refresh).
   */
  async read(requests: readonly ReadRequest[]): Promise<(Attrs | null)[]> {
    const pools = new Set(requests.flatMap((r) => this.lifecycle(r.type).poolsOf(r.state)));
    const keys = requests.map((r) => `${r.type}:${String(r.state.id)}`);
    const needsVms = requests.some((r) => this.lifecycle(r.type).readsVms);
    const snapshot = await (needsVms ? this.snapshotOf(pools, keys) : this.poolRowsOf(pools, keys));
    return Promise.all(
      requests.map(async (r) => {
        const read = await this.lifecycle(r.type).read(this.context({}, r.type, String(r.state.name ?? '')), snapshot, r.state);
        return read && keepEmptyCollections(declarationFor(r.type).schema, read, r.state);
      }),
    );
  }

  /** The refresh snapshot with the VMs, and the last pool-only read (for VCH and image reads). */
  private cached?: RefreshRead;
  private poolRows?: RefreshRead;

  /**
   * Starts an inventory read and keeps it where `slot` says; a failed read is not kept. Only the
   * pools' rows unless `vms`.
   */
  private takeRead(slot: 'cached' | 'poolRows', pools: ReadonlySet<string>, served: Iterable<string>, vms: boolean, background = false): RefreshRead {
    this.options.onRefreshRead?.({ pools: pools.size, vms });
    const now = Date.now();
    const entry: RefreshRead = {
      pools,
      served: new Set(served),
      takenAt: now,
      usedAt: background ? undefined : now,
      settled: false,
      snapshot: takeSnapshot(this.client, pools, { vms }),
    };
    this[slot] = entry;
    entry.snapshot.then(
      () => (entry.settled = true),
      () => {
        if (this[slot] === entry) this[slot] = undefined;
      },
    );
    return entry;
  }

  private snapshotOf(pools: ReadonlySet<string>, keys: readonly string[], background = false): Promise<InventorySnapshot> {
    const c = this.cached && fresh(this.cached, keys) ? this.cached : undefined;
    if (c && covers(c, pools)) return serve(c, keys, background);
    return this.takeRead('cached', new Set([...pools, ...(c ? c.pools : [])]), [...(c ? c.served : []), ...keys], true, background).snapshot;
  }

  /** Pool rows for reads that need no VMs; the snapshot with the VMs starts in the background. */
  private poolRowsOf(pools: ReadonlySet<string>, keys: readonly string[]): Promise<InventorySnapshot> {
    const c = this.cached;
    if (c && c.settled && fresh(c, keys) && covers(c, pools)) return serve(c, keys);
    // Failures surface on the reads that need it (a failed snapshot is not kept).
    this.snapshotOf(pools, keys, true).catch(() => undefined);
    const rows = this.poolRows;
    if (rows && fresh(rows, keys) && covers(rows, pools)) return serve(rows, keys);
    return this.takeRead('poolRows', pools, keys, false).snapshot;
  }

  async importState(type: ResourceType, id: string): Promise<Attrs> {
    return this.lifecycle(type).importState(this.context({}, type), id);
  }

  inventory(): Promise<ManagedInventory> {
    return listManaged(this.client);
  }

  async readContainerConsole(datacenter: string, vmPath: string, from: number): Promise<{ data: Buffer; size: number }> {
    try {
      // A ranged read over datastore HTTP: following a log costs only what is new.
      return await readDatastoreFileFrom(this.client, { datacenter, ...consoleLogPath(vmPath) }, from);
    } catch (err) {
      // A VM that never ran has no console file: no output yet, which is not an error.
      if (isNotFound(err)) return { data: Buffer.alloc(0), size: 0 };
      throw err;
    }
  }

  readPoolCapacity(vchId: string): Promise<PoolCapacity | null> {
    return readPoolCapacity(this.client, vchId);
  }

  readContainerUsage(moid: string): Promise<VmUsage | null> {
    return readVmUsage(this.client, moid);
  }

  async readDataSource(type: ResourceType, config: Attrs): Promise<Attrs> {
    const l = this.lifecycle(type);
    if (!l.lookup) throw new ResourceError(`there is no vic_${type} data source`);
    return l.lookup(this.context({}, type), config);
  }

  async listIn(type: ResourceType, vchId: string): Promise<Attrs[]> {
    const l = this.lifecycle(type);
    if (!l.listIn) throw new ResourceError(`${type} objects are not listed by VCH`);
    return l.listIn(this.context({}, type), vchId);
  }

  async findIn(type: ResourceType, vchId: string, key: LookupKey): Promise<Attrs | null> {
    const l = this.lifecycle(type);
    if (!l.findIn) throw new ResourceError(`${type} objects are not looked up by name or id in a VCH`);
    return l.findIn(this.context({}, type), vchId, key);
  }

  async idFor(type: ResourceType, vchId: string, name: string): Promise<string> {
    const l = this.lifecycle(type);
    if (!l.idFor) throw new ResourceError(`the id of a ${type} does not derive from its name`);
    return l.idFor(this.context({}, type), vchId, name);
  }

  async rename(type: ResourceType, prior: Attrs, newName: string): Promise<Attrs> {
    const l = this.lifecycle(type);
    if (!l.rename) throw new ResourceError(`a ${type} cannot be renamed in place; change its name in the configuration to replace it`);
    // A change: what a lookup read before it is not handed on, nor taken by a later change.
    this.handed.clear();
    this.lastChangeAt = Date.now();
    return l.rename(this.context({}, type, newName), prior, newName);
  }

  async addName(type: ResourceType, prior: Attrs, name: string): Promise<Attrs> {
    const l = this.lifecycle(type);
    if (!l.addName) throw new ResourceError(`a ${type} has one name`);
    this.handed.clear();
    this.lastChangeAt = Date.now();
    return l.addName(this.context({}, type), prior, name);
  }

  async signal(type: ResourceType, prior: Attrs, signal: number, stop = false): Promise<void> {
    const l = this.lifecycle(type);
    if (!l.signal) throw new ResourceError(`a ${type} runs no process to signal`);
    this.handed.clear();
    return l.signal(this.context({}, type, String(prior.name ?? '')), prior, signal, stop);
  }

  async input(type: ResourceType, prior: Attrs, data: Buffer, eof: boolean, exec?: string): Promise<void> {
    const l = this.lifecycle(type);
    if (!l.input) throw new ResourceError(`a ${type} runs no process to take input`);
    return l.input(this.context({}, type, String(prior.name ?? '')), prior, data, eof, exec);
  }

  async resize(type: ResourceType, prior: Attrs, rows: number, cols: number, exec?: string): Promise<void> {
    const l = this.lifecycle(type);
    if (!l.resize) throw new ResourceError(`a ${type} runs no process on a terminal`);
    return l.resize(this.context({}, type, String(prior.name ?? '')), prior, rows, cols, exec);
  }

  async exec(type: ResourceType, prior: Attrs, id: string, request: ExecRequest): Promise<void> {
    const l = this.lifecycle(type);
    if (!l.exec) throw new ResourceError(`a ${type} runs no process to run another beside`);
    return l.exec(this.context({}, type, String(prior.name ?? '')), prior, id, request);
  }

  async maintenance(type: ResourceType, prior: Attrs, token: string, op: MaintenanceOp): Promise<boolean> {
    const l = this.lifecycle(type);
    if (!l.maintenance) throw new ResourceError(`a ${type} has no maintenance boot`);
    if (op !== 'alive') this.handed.clear();
    return l.maintenance(this.context({}, type, String(prior.name ?? '')), prior, token, op);
  }

  async keptFile(type: ResourceType, prior: Attrs, file: KeptFile): Promise<Buffer | null> {
    const l = this.lifecycle(type);
    if (!l.keptFile) throw new ResourceError(`a ${type} keeps no files beside it`);
    return l.keptFile(this.context({}, type), prior, file);
  }

  async commitImage(vchId: string, options: CommitImageOptions): Promise<Attrs> {
    const l = this.lifecycle('image');
    if (!l.commit) throw new ResourceError('images cannot be committed');
    this.handed.clear();
    this.lastChangeAt = Date.now();
    return l.commit(this.context({}, 'image'), vchId, options);
  }

  async loadImages(vchId: string, options: LoadImagesOptions): Promise<LoadedImage[]> {
    const l = this.lifecycle('image');
    if (!l.load) throw new ResourceError('images cannot be loaded');
    this.handed.clear();
    this.lastChangeAt = Date.now();
    return l.load(this.context({}, 'image'), vchId, options);
  }

  async saveImages(
    images: ReadonlyArray<{ image: Attrs; names: readonly string[]; sources: readonly string[] }>,
    out: Writable,
    access: SaveAccess,
    onStarted?: () => void,
  ): Promise<void> {
    const l = this.lifecycle('image');
    if (!l.save) throw new ResourceError('images cannot be saved');
    return l.save(
      this.context({}, 'image'),
      images.map((i) => ({ prior: i.image, names: i.names, sources: i.sources })),
      out,
      access,
      onStarted,
    );
  }

  verifyRegistryLogin(host: string, credentials: { username: string; password: string }, insecure: boolean): Promise<void> {
    return verifyRegistryLogin(host, credentials, insecure);
  }

  pushImage(options: PushOptions, image?: Attrs): Promise<PushResult> {
    const push = this.lifecycle('image').push;
    return image && push ? push(this.context({}, 'image'), image, options) : pushImage(options);
  }

  forCommand(options: CommandOptions = {}): Engine {
    return new VsphereEngine(this.client, this.options, false, options);
  }

  async close(): Promise<void> {
    if (this.ownsSession) await this.client.close();
  }
}

export async function connectVsphere(settings: ConnectionSettings, log?: SoapLogger): Promise<VimClient> {
  return VimClient.connect({
    url: settings.url,
    username: settings.username,
    password: settings.password,
    insecure: settings.insecure,
    thumbprint: settings.thumbprint,
    caFile: settings.caFile,
    taskTimeoutMs: settings.taskTimeoutMs,
    log,
  });
}

/**
 * The state as the front end gave its empty collections: a lifecycle reads an empty map or list
 * back as none (vSphere keeps no empty labels), but `labels = {}` must come back as `{}`, or
 * Terraform calls the apply inconsistent (and taints what it made) and every plan shows a change.
 */
function keepEmptyCollections(schema: Schema, state: Attrs, given: Attrs): Attrs {
  let out = state;
  for (const [name, attr] of Object.entries(schema)) {
    const kind = attr.type.kind;
    if (kind !== 'map' && kind !== 'list' && kind !== 'set') continue;
    const want = given[name];
    const empty = Array.isArray(want) ? want.length === 0 : typeof want === 'object' && want !== null && Object.keys(want).length === 0;
    if (!empty || (state[name] !== null && state[name] !== undefined)) continue;
    out = { ...out, [name]: want };
  }
  return out;
}
