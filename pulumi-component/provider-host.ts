/**
 * The dynamic providers' work, run inside Pulumi's Node provider process. The serialized providers
 * (dynamic-provider.ts) load this module by its package name, `vic-iac/pulumi/provider-host`, at
 * call time, so the engine, the vSphere client and their dependencies are never serialized into
 * the stack state and never loaded by the user's program.
 *
 * Every decision (validate, plan: update or replace, apply, refresh) is the shared engine's; this
 * module only translates between Pulumi property bags and engine attributes.
 */
import type * as dynamic from '@pulumi/pulumi/dynamic';
import {
  IdentityClaims,
  withStateOnlyChanges,
  isEmptyValue,
  type ApplyWarning,
  type AttributeChange,
  type ConnectEngineOptions,
  type Engine,
  type PlannedChange,
} from '../src/engine';
import {
  Attrs,
  Problem,
  ResourceDeclaration,
  ResourceType,
  camelCase,
  connectionFromEnv,
  connectionSchema,
  connectionSettings,
  declarationFor,
  formatPath,
  migrateState,
  StateVersionError,
  validateAttrs,
} from '../src/resources';
import {
  IMPORT_PROPERTY,
  PROVIDER_PROPERTY,
  RESOURCE_NAME_PROPERTY,
  STACK_PROPERTY,
  connectionConfigKey,
  inPulumiWords,
  pulumiPath,
  pulumiSecretNames,
  toEngineAttrs,
  toPulumiValues,
} from './attribute-mapping';
import { forwardPropertyDiffs, withPropertyDiffs, type PropertyDiff, type PropertyDiffKind, type PropertyDiffs } from './diff-response';

/**
 * The schema version the outputs were written at, stored among them: Pulumi keeps no version for a
 * dynamic resource's state. Outputs without it predate it, and every declaration was at version 1.
 */
export const STATE_VERSION_PROPERTY = 'vicSchemaVersion';
const UNVERSIONED = 1;

/** Properties the Pulumi side adds that are not attributes of the resource. */
const NOT_ATTRIBUTES = [PROVIDER_PROPERTY, IMPORT_PROPERTY, STATE_VERSION_PROPERTY, RESOURCE_NAME_PROPERTY, STACK_PROPERTY];

/** The claimant the engine knows a resource by: its name in the program (absent in stacks made before it was sent). */
function claimant(type: ResourceType, props: PropertyBag): { owner?: string; label?: string; createdFor?: string } {
  const name = props[RESOURCE_NAME_PROPERTY];
  if (typeof name !== 'string' || name === '') return {};
  const stack = props[STACK_PROPERTY];
  const createdFor = typeof stack === 'string' && stack !== '' ? { createdFor: `pulumi:${stack}:${type}:${name}` } : {};
  return { owner: `pulumi:${type}:${name}`, label: `${type} "${name}"`, ...createdFor };
}

type PropertyBag = Record<string, unknown>;

/** Reads a stack config value by its full key (vic:vsphereServer); undefined when unset. */
export type ConfigReader = (key: string) => string | undefined;

export type EngineConnector = (settings: NonNullable<ReturnType<typeof connectionSettings>['settings']>, options?: ConnectEngineOptions) => Promise<Engine>;

/** Stack config `vic:*` (secrets already decrypted by Pulumi) with the VSPHERE_* env vars as fallback. */
export function connectionFromConfig(read: ConfigReader, env: NodeJS.ProcessEnv = process.env): Attrs {
  const fromConfig: Attrs = {};
  for (const name of Object.keys(connectionSchema)) {
    const v = read(connectionConfigKey(name));
    if (v !== undefined && v !== '') fromConfig[name] = v;
  }
  return connectionFromEnv(fromConfig, env);
}

/** What a user calls the resource in an error: its name or image reference as the program gives it, else `fallback` (an id is a UUID or a digest). */
function nameOf(props: PropertyBag, fallback: string): string {
  const named = props.name ?? props.reference;
  return typeof named === 'string' && named !== '' ? named : fallback;
}

function isError(p: Problem): boolean {
  return (p.severity ?? 'error') === 'error';
}

/** Engine attributes as the outputs Pulumi stores, with the schema version they are at. */
function outputs(decl: ResourceDeclaration, state: Attrs): Record<string, unknown> {
  return { ...toPulumiValues(decl.schema, state, ['id']), [STATE_VERSION_PROPERTY]: decl.schemaVersion };
}

/**
 * Stored outputs as engine attributes at the current schema version. Outputs of an older version
 * go through the declaration's migrations; a property the current schema no longer has gets its
 * engine (snake_case) name, which is the name the migration knows it by.
 */
export function storedAttrs(decl: ResourceDeclaration, props: PropertyBag): Attrs {
  const version = props[STATE_VERSION_PROPERTY] ?? UNVERSIONED;
  if (version === decl.schemaVersion) return toEngineAttrs(decl.schema, props, NOT_ATTRIBUTES);
  const known = new Set(Object.keys(decl.schema).map(camelCase));
  const renamed = Object.fromEntries(
    Object.entries(props)
      .filter(([k]) => !NOT_ATTRIBUTES.includes(k))
      .map(([k, v]) => [known.has(k) ? k : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
  try {
    return migrateState(decl, Number(version), toEngineAttrs(decl.schema, renamed));
  } catch (err) {
    if (!(err instanceof StateVersionError)) throw err;
    throw new Error(`vic: ${err.message}${err.newer ? "; a newer vic-iac wrote this stack's state: upgrade the vic-iac package of this program" : ''}`);
  }
}

/** Pulumi's words for a change of a property: added, removed or updated, and whether it forces the replacement. */
function propertyDiffKind(change: AttributeChange, replacing: boolean): PropertyDiffKind {
  const kind = isEmptyValue(change.before) ? 'ADD' : isEmptyValue(change.after) ? 'DELETE' : 'UPDATE';
  return replacing ? `${kind}_REPLACE` : kind;
}

/**
 * The plan's changed attributes as Pulumi properties, each diffed between the stored outputs and
 * the program's args (the engine plans from the state, not from the old args).
 */
export function propertyDiffs(decl: ResourceDeclaration, change: PlannedChange): PropertyDiffs {
  const forcing = new Set(change.action === 'replace' ? change.requiresReplace.map((p) => String(p[0])) : []);
  const detailedDiff: Record<string, PropertyDiff> = {};
  for (const c of change.changes) {
    const name = String(c.path[0]);
    detailedDiff[pulumiPath(decl.schema, [name])] = { kind: propertyDiffKind(c, forcing.has(name)), inputDiff: false };
  }
  // A replacement the resource's check forces with no arg change of its own (the digest a moved tag
  // points at): a changed key, but no detailed entry for an output, which Pulumi would show as
  // removed (it diffs the old outputs against the new args).
  const diffs = new Set(Object.keys(detailedDiff));
  for (const name of forcing) {
    const key = pulumiPath(decl.schema, [name]);
    diffs.add(key);
    const attr = decl.schema[name];
    if (attr?.required || attr?.optional) detailedDiff[key] ??= { kind: 'UPDATE_REPLACE', inputDiff: false };
  }
  return { diffs: [...diffs], detailedDiff };
}

/** Error problems as Pulumi check failures, each at its Pulumi property path. */
function failuresOf(decl: ResourceDeclaration, problems: readonly Problem[]): dynamic.CheckFailure[] {
  const secret = new Set(pulumiSecretNames(decl));
  return problems.filter(isError).map((p) => {
    const property = pulumiPath(decl.schema, p.path);
    const reason = inPulumiWords(decl.schema, `${p.summary}: ${p.detail}`);
    // Pulumi prints a failure's top-level property with its value: one that holds a secret (the
    // registry password) is named in the reason instead.
    return secret.has(property) ? { property: '', reason: `${property}: ${reason}` } : { property, reason };
  });
}

function describeProblems(decl: ResourceDeclaration, problems: readonly Problem[]): string {
  return problems
    .map((p) => `${p.path.length ? `${pulumiPath(decl.schema, p.path)}: ` : ''}${inPulumiWords(decl.schema, `${p.summary}: ${p.detail}`)}`)
    .join('\n');
}

/**
 * One provider process serves every vic resource of a stack: one engine (one vSphere session),
 * made on first use from the config `configure` received.
 */
export class ProviderHost {
  private connection: Attrs = {};
  private engine?: Promise<Engine>;
  /** Check sees every resource before any is created, in preview too: duplicates are refused there. */
  private readonly claims = new IdentityClaims();
  /** The warnings written to stderr so far (say). */
  private readonly said = new Set<string>();
  private interrupt = new AbortController();
  private readonly applying = new Set<Promise<unknown>>();

  constructor(private readonly connectEngine: EngineConnector) {}

  /**
   * Every apply goes through here: it observes cancel(), and stop() waits for it to answer. Pulumi
   * starts the provider anew for each update (oneRun), except for the undo of a create, whose object
   * must go although this run made it.
   */
  private async apply(change: PlannedChange, oneRun = true): Promise<Attrs | null> {
    const applied = (await this.connected()).apply(change, { signal: this.interrupt.signal, oneRun, onWarning: (w) => this.warn(w) });
    this.applying.add(applied);
    try {
      return await applied;
    } finally {
      this.applying.delete(applied);
    }
  }

  /**
   * A warning of an apply (an object kept for the replacement that holds it): Pulumi shows what a
   * provider process writes to stderr in the update's output, and a dynamic provider has no other
   * channel for it.
   */
  private warn(w: ApplyWarning): void {
    this.say(`${w.summary}. ${w.detail}`);
  }

  /** A warning in the update's output, once per process (Pulumi may plan a resource more than once). */
  private say(text: string): void {
    if (this.said.has(text)) return;
    this.said.add(text);
    process.stderr.write(`warning: vic: ${text}\n`);
  }

  /** cancel(), then lets the cancelled applies answer (at most `graceMs`) before logging out. */
  async stop(reason: string, graceMs: number): Promise<void> {
    this.cancel(reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.applying]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await this.close();
  }

  /**
   * Ends the task waits of every apply in flight (they fail saying so; the tasks go on in vSphere
   * and the next `pulumi up` adopts what they made). Applies that start later run normally.
   */
  cancel(reason: string): void {
    this.interrupt.abort(new Error(reason));
    this.interrupt = new AbortController();
  }

  /** Logs out of vSphere; the next call connects again. */
  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    await (await engine?.catch(() => undefined))?.close();
  }

  /**
   * Pulumi's Node dynamic-provider server configures each resource type's provider when it first
   * serves one, midway through an update: the same settings keep the engine, which knows what this
   * update's creates made (a replacement's delete leaves the object its new resource holds).
   */
  configure(read: ConfigReader): void {
    const connection = connectionFromConfig(read);
    if (JSON.stringify(connection) === JSON.stringify(this.connection)) return;
    this.connection = connection;
    this.engine = undefined;
  }

  private connected(): Promise<Engine> {
    if (!this.engine) {
      const { settings, problems } = connectionSettings(this.connection);
      if (!settings) {
        const list = problems.map((p) => `${connectionConfigKey(formatPath(p.path))}: ${p.summary}: ${p.detail}`).join('\n');
        return Promise.reject(
          new Error(
            `vic: cannot connect to vSphere:\n${list}\nSet them with "pulumi config set vic:<name>" (--secret for vic:password) or the VSPHERE_* environment variables.`,
          ),
        );
      }
      // Worded as Terraform's provider words it, so a plan and a preview fail alike.
      this.engine = this.connectEngine(settings).catch((err: unknown) => {
        throw new Error(`vic: cannot connect to vSphere at ${settings.url} as ${settings.username}: ${err instanceof Error ? err.message : String(err)}`);
      });
      // A failed login must not stick: the next call tries again.
      this.engine.catch(() => (this.engine = undefined));
    }
    return this.engine;
  }

  /** Schema validation only; every problem comes back with its Pulumi property path. */
  check(type: ResourceType, news: PropertyBag): dynamic.CheckResult {
    const decl = declarationFor(type);
    const { attrs, problems } = validateAttrs(decl.schema, toEngineAttrs(decl.schema, news, NOT_ATTRIBUTES));
    const who = claimant(type, news);
    if (who.owner && problems.filter(isError).length === 0) problems.push(...this.claims.claim(decl, attrs, { owner: who.owner, label: who.label }).problems);
    return { inputs: news, failures: failuresOf(decl, problems) };
  }

  /**
   * Pulumi's check: check(), and for a resource to create (no old inputs) the engine's plan-time
   * checks of what it refers to (registry, datastore, networks, the VCH...). Pulumi's Node provider
   * servers do not announce previews, so `pulumi preview` calls nothing else for a resource to
   * create; without these, a missing tag failed only at `pulumi up`, after the VCH was made.
   * Pulumi also checks every replacement again without old inputs while the old object still
   * exists: whether the identity is free is left to create(), whose plan checks everything.
   */
  async checkInputs(type: ResourceType, olds: PropertyBag | undefined, news: PropertyBag): Promise<dynamic.CheckResult> {
    const checked = this.check(type, news);
    const importing = typeof news[IMPORT_PROPERTY] === 'string' && news[IMPORT_PROPERTY] !== '';
    if ((checked.failures ?? []).length > 0 || Object.keys(olds ?? {}).length > 0 || importing) return checked;
    const decl = declarationFor(type);
    const engine = await this.connected();
    const config = toEngineAttrs(decl.schema, news, NOT_ATTRIBUTES);
    const change = await engine.plan(type, null, config, { ...claimant(type, news), referencesOnly: true });
    return { inputs: news, failures: failuresOf(decl, change.problems) };
  }

  private prior(decl: ResourceDeclaration, id: string, props: PropertyBag): Attrs {
    return { ...storedAttrs(decl, props), id };
  }

  private async plan(
    decl: ResourceDeclaration,
    prior: Attrs | null,
    news: PropertyBag | null,
    name: string,
    props: PropertyBag = news ?? {},
    createsNow = false,
  ): Promise<PlannedChange> {
    const engine = await this.connected();
    const config = news === null ? null : toEngineAttrs(decl.schema, news, NOT_ATTRIBUTES);
    const change = await engine.plan(decl.type, prior, config, { ...claimant(decl.type, props), createsNow });
    const errors = change.problems.filter(isError);
    if (errors.length > 0) throw new Error(`vic: cannot plan ${decl.type} "${name}":\n${describeProblems(decl, errors)}`);
    // What `terraform plan` and `vic plan` print as warnings and notes (a registry down while the
    // image is stored, a power cycle of an in-place change): Pulumi shows a provider's stderr.
    const warnings = change.problems.filter((p) => !isError(p));
    if (warnings.length > 0) this.say(`${decl.type} "${name}": ${describeProblems(decl, warnings)}`);
    for (const note of change.notes) this.say(`${decl.type} "${name}": ${inPulumiWords(decl.schema, note)}`);
    return change;
  }

  /**
   * The engine's plan, told in Pulumi's terms: no change, an update, or a replacement, with the
   * properties that changed (what the replaceOnChanges option is matched against, and what
   * `pulumi preview --diff` shows).
   */
  async diff(type: ResourceType, id: string, olds: PropertyBag, news: PropertyBag): Promise<dynamic.DiffResult> {
    const decl = declarationFor(type);
    const change = await this.plan(decl, this.prior(decl, id, olds), news, nameOf(news, id));
    const diffs = propertyDiffs(decl, change);
    if (change.action === 'no-op') return withPropertyDiffs({ changes: false }, diffs);
    // A replacement no arg forces (a moved tag's new digest) shows no arg change in Pulumi's diff: say why.
    const byOutput = change.requiresReplace.filter((p) => !decl.schema[String(p[0])]?.required && !decl.schema[String(p[0])]?.optional);
    if (change.action === 'replace' && byOutput.length > 0) {
      this.say(`${decl.type} "${nameOf(news, id)}" will be replaced: ${inPulumiWords(decl.schema, change.reasons.join('; '))}`);
    }
    const replaces = change.action === 'replace' ? [...new Set(change.requiresReplace.map((p) => pulumiPath(decl.schema, p.slice(0, 1))))] : [];
    // Container VMs take their BIOS UUID from (VCH, name) and VCHs their pool from the name: the
    // replacement would collide with the old object, so the old one goes first. A content-addressed
    // image with a new digest is made first; Pulumi deletes the old one after its users moved. An
    // update keeps the identity: should replaceOnChanges make it a replacement, it destroys first.
    return withPropertyDiffs({ changes: true, replaces, deleteBeforeReplace: !change.createBeforeDestroy }, diffs);
  }

  async create(type: ResourceType, inputs: PropertyBag): Promise<dynamic.CreateResult> {
    const decl = declarationFor(type);
    const importId = inputs[IMPORT_PROPERTY];
    if (typeof importId === 'string' && importId !== '') return this.adopt(decl, importId, inputs);
    // Pulumi checks each resource as it registers: when a resource that exists already came second
    // and was refused as a duplicate, this new one got the claim first, and must not be made either.
    const contested = this.claims.contestedBy(decl, toEngineAttrs(decl.schema, inputs, NOT_ATTRIBUTES));
    if (contested) throw new Error(`vic: cannot create ${type} "${nameOf(inputs, type)}":\n${describeProblems(decl, [contested])}`);
    // The plan refuses it too when it claimed its object (an image's digest) before an existing twin was refused.
    const change = await this.plan(decl, null, inputs, nameOf(inputs, type), inputs, true);
    const state = await this.apply(change);
    if (!state) throw new Error(`vic: creating ${type} returned no state (engine bug): report it with the plan reasons: ${change.reasons.join('; ')}`);
    // Pulumi plans the resources registered after this one while it creates: an existing twin (an
    // image on another reference to the same digest) refused meanwhile means this one may not stay
    // either. It is undone: for an image, its reference leaves the stored image, which the twin keeps.
    // A twin on the same reference (its check refused as a duplicate) holds the very name this
    // create found stored: the create added nothing, so it only fails, and deletes nothing. Pulumi
    // may register the existing twin after this one (a program's inputs resolve in any order), so
    // an image, which adopts what is stored, waits a moment for a late twin's check before it stays.
    const engine = await this.connected();
    const attrs = toEngineAttrs(decl.schema, inputs, NOT_ATTRIBUTES);
    let twin = engine.contestedObject(type, state);
    let sameName = type === 'image' && !twin ? this.claims.contestedBy(decl, attrs) : undefined;
    for (let waited = 0; !twin && !sameName && type === 'image' && waited < LATE_TWIN_GRACE_MS; waited += LATE_TWIN_POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, LATE_TWIN_POLL_MS));
      twin = engine.contestedObject(type, state);
      sameName = twin ? undefined : this.claims.contestedBy(decl, attrs);
    }
    if (sameName) {
      throw new Error(
        `vic: cannot create ${type} "${nameOf(inputs, type)}":\n${describeProblems(decl, [sameName])}\nThe stored image and its name are the other resource's: this create added nothing, and deleted nothing.`,
      );
    }
    if (twin) await this.undoCreate(decl, state, inputs, twin);
    return { id: String(state.id), outs: outputs(decl, state) };
  }

  /** Deletes what a create just made, then fails it with `why`; an undo that fails too is named, with what is left. */
  private async undoCreate(decl: ResourceDeclaration, state: Attrs, inputs: PropertyBag, why: Problem): Promise<never> {
    const name = nameOf(inputs, decl.type);
    const refused = `vic: cannot create ${decl.type} "${name}":\n${describeProblems(decl, [why])}`;
    try {
      await this.apply(await this.plan(decl, state, null, name, inputs), false);
    } catch (err) {
      throw new Error(
        `${refused}\nIt was made before the other resource was refused, and deleting it again failed: ${err instanceof Error ? err.message : String(err)}. ` +
          `${decl.type} ${String(state.id)} is in vSphere but not in the stack: delete it there, or import it into the resource you keep.`,
      );
    }
    throw new Error(refused);
  }

  /**
   * The `import` resource option: read the existing object and take it over when the program's
   * args describe it; otherwise say what differs, as `pulumi import` does.
   */
  private async adopt(decl: ResourceDeclaration, importId: string, inputs: PropertyBag): Promise<dynamic.CreateResult> {
    const engine = await this.connected();
    const state = await engine.importState(decl.type, importId);
    const change = await this.plan(decl, state, inputs, importId);
    // What the args change only in the state (an input vSphere does not hold, the same object
    // spelled another way) matches: the outputs take the args' values.
    if (change.action !== 'no-op' && !change.stateOnly) {
      const matching = change.changes.filter((c) => c.stateOnly).map((c) => `${String(c.path[0])}: `);
      const differences = change.reasons.filter((r) => !matching.some((m) => r.startsWith(m)));
      throw new Error(
        `vic: cannot import ${decl.type} "${importId}": the program's args differ from vSphere:\n${inPulumiWords(decl.schema, differences.join('\n'))}\n` +
          'Change the args to match the existing object, import, then change them.',
      );
    }
    return { id: String(state.id), outs: outputs(decl, withStateOnlyChanges(state, change)) };
  }

  /**
   * `pulumi import` (and `.get()`) on the native provider: the object by the import ID Terraform
   * uses, with its outputs and, as inputs, the args that describe it as it is, so the code Pulumi
   * generates from them plans no change.
   */
  async importState(type: ResourceType, importId: string): Promise<dynamic.ReadResult> {
    const decl = declarationFor(type);
    const state = await (await this.connected()).importState(type, importId);
    const settable = Object.fromEntries(
      Object.entries(state).filter(([name, v]) => name !== 'id' && v !== null && (decl.schema[name]?.required || decl.schema[name]?.optional)),
    );
    return { id: String(state.id), props: outputs(decl, state), inputs: toPulumiValues(decl.schema, settable) };
  }

  /** Refresh: the engine's batched read; a vanished object comes back without an id. */
  async read(type: ResourceType, id: string, props: PropertyBag): Promise<dynamic.ReadResult> {
    const decl = declarationFor(type);
    const [state] = await (await this.connected()).read([{ type, state: this.prior(decl, id, props) }]);
    if (!state) return {};
    return { id: String(state.id), props: outputs(decl, state) };
  }

  async update(type: ResourceType, id: string, olds: PropertyBag, news: PropertyBag): Promise<dynamic.UpdateResult> {
    const decl = declarationFor(type);
    const change = await this.plan(decl, this.prior(decl, id, olds), news, nameOf(news, id));
    if (change.action === 'replace') {
      throw new Error(
        `vic: ${type} "${id}" must be replaced, not updated (${inPulumiWords(declarationFor(type).schema, change.reasons.join('; '))}): run "pulumi refresh", then "pulumi up" again`,
      );
    }
    if (change.action === 'no-op') return { outs: outputs(decl, this.prior(decl, id, olds)) };
    const state = await this.apply(change);
    return { outs: outputs(decl, state ?? {}) };
  }

  async delete(type: ResourceType, id: string, props: PropertyBag): Promise<void> {
    const decl = declarationFor(type);
    const change = await this.plan(decl, this.prior(decl, id, props), null, nameOf(props, id), props);
    await this.apply(change);
  }
}

let shared: ProviderHost | undefined;

/** How long a created image waits for a twin's check that Pulumi sent late (create), and how often it looks. */
const LATE_TWIN_GRACE_MS = 1500;
const LATE_TWIN_POLL_MS = 100;

/** JavaScript's own errors: a bug's, whose stack is worth its noise. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError', 'EvalError', 'URIError', 'AggregateError']);

/**
 * Whether a line is Pulumi's dynamic-provider server echoing an error this host threw on purpose:
 * it prints `${e}: ${e.stack}` on stderr before it answers with the error (@pulumi/pulumi
 * cmd/dynamic-provider), and Pulumi shows that as a second, longer copy of the message the answer
 * already carries, stack and all. Ours are "vic: …" errors and the engine's named ones
 * (ResourceError, TaskFailedError, …); a JavaScript error (a bug) or an unnamed one keeps its echo.
 */
export function isEchoOfOurError(line: string): boolean {
  const frames = line.indexOf('\n    at ');
  if (frames < 0 || (frames - 2) % 2 !== 0) return false;
  const length = (frames - 2) / 2;
  const told = line.slice(0, length);
  if (line.slice(length, length + 2) !== ': ' || line.slice(length + 2, frames) !== told) return false;
  const name = /^(\w+): /.exec(told)?.[1] ?? '';
  return name === 'Error' ? told.startsWith('Error: vic: ') : name !== '' && !PROGRAMMING_ERRORS.has(name);
}

/** Leaves out the dynamic-provider server's echoes of our errors (isEchoOfOurError); once per process. */
function quietEchoesOfOurErrors(): void {
  const print = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === 'string' && isEchoOfOurError(args[0])) return;
    print(...args);
  };
}

/** How long the cancelled applies get to answer before the process logs out and exits (Pulumi kills it at 5 s). */
const INTERRUPT_GRACE_MS = 1500;

/** The provider process's one host, on the real engine (loaded here, never in the program). */
export function providerHost(): ProviderHost {
  if (!shared) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the engine only when the provider process needs it
    const { connectEngine } = require('../src/engine') as typeof import('../src/engine');
    const host = new ProviderHost(connectEngine);
    shared = host;
    forwardPropertyDiffs();
    quietEchoesOfOurErrors();
    // Pulumi's Node dynamic-provider server answers the Cancel RPC itself and tells no provider
    // (@pulumi/pulumi cmd/dynamic-provider), so the cancellation that reaches this process is the
    // SIGINT (then SIGKILL 5 s later) Pulumi sends when it shuts the provider down: on a second
    // Ctrl-C, and at the end of every operation. Stop the waits, log out, then exit as the signal would.
    const onInterrupt = (signal: NodeJS.Signals) => {
      const exit = () => process.exit(signal === 'SIGINT' ? 130 : 143);
      setTimeout(exit, INTERRUPT_GRACE_MS * 2).unref();
      void host
        .stop(`Pulumi stopped the provider (${signal})`, INTERRUPT_GRACE_MS)
        .catch(() => undefined)
        .finally(exit);
    };
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
  }
  return shared;
}
