/**
 * The tfplugin6 Provider RPCs, in terms of the engine. Requests and responses are the plain objects
 * @grpc/proto-loader produces (enums as strings, bytes as Buffers). This layer translates between
 * cty values and engine attributes and enforces Terraform's plan and apply rules; the decisions
 * (what changes, what it means in vSphere) belong to the engine.
 */
import { ApplyOptions, Engine, PlannedChange, ResourceError, approvedChange, sameValue } from '../src/engine';
import {
  AttrPath,
  AttrType,
  Attrs,
  ConnectionSettings,
  Problem,
  ResourceType,
  UNKNOWN,
  Value,
  connectionFromEnv,
  connectionProblems,
  connectionSettings,
  namingEnvSources,
  containsUnknown,
  formatPath,
  isUnknown,
  migrateState,
  StateVersionError,
  Validated,
  validateAttrs,
} from '../src/resources';
import { CtyValue, surelyEqual } from './cty';
import { CodecError, decodeDynamicValue, encodeMsgpack, fromJsonValue, isNullDynamicValue } from './codec';
import { Diagnostic, errorDiagnostic, hasErrors, problemDiagnostics, warningDiagnostic } from './diagnostics';
import { Logger } from './log';
import { startedByDestroy } from './destroy-run';
import { ReadCoalescer } from './read-coalescer';
import { ProviderSchemas, TerraformKind, TfPathStep, attributePathSteps, isComputed, providerSchemas } from './schema';

export interface WireDynamicValue {
  msgpack?: Buffer | Uint8Array | null;
  json?: Buffer | Uint8Array | null;
}

/** How the provider gets an engine once it knows the connection settings (lazily: first use). */
export type EngineConnector = (settings: ConnectionSettings) => Promise<Engine>;

export interface VicProviderOptions {
  readonly connect: EngineConnector;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to the schemas derived from src/resources. */
  readonly schemas?: ProviderSchemas;
  /** Whether the Terraform command that started this process is a destroy; defaults to its command line (destroy-run.ts). */
  readonly destroyRun?: () => boolean;
}

type Diags = { diagnostics: Diagnostic[] };

/**
 * A value Terraform sent, sent back as it came when the answer is surely that value: most refreshes
 * and plans change nothing, and encoding each of thousands of states again was CPU for nothing.
 */
function unchanged(wire: WireDynamicValue | undefined, before: Attrs | null, after: Attrs | null): { msgpack: Buffer } | undefined {
  const bytes = wire?.msgpack;
  if (!bytes || bytes.length === 0 || !surelyEqual(before, after)) return undefined;
  return { msgpack: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes) };
}

/**
 * Values this process decoded or sent, by type and wire bytes, each kept until it is decoded once
 * more. Terraform sends most values of a plan twice: the state it had upgraded comes back to be
 * refreshed, the refreshed state as the plan's prior, the configuration it validated as the plan's
 * config (with what validating it gave). Decoding each again cost a plan of 1000 container VMs about
 * 0.1 s of CPU (bench/README.md, row 1). Values are shared, so nothing may change one in place; none
 * does (every step builds its own). Bounded: an entry never asked for again goes after `limit` more.
 */
class WireValues {
  private readonly entries = new Map<string, { readonly value: Attrs; readonly validated?: Validated }>();

  constructor(private readonly limit = 4096) {}

  private static key(kind: TerraformKind, bytes: Buffer | Uint8Array): string {
    return `${kind.typeName}\0${(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('latin1')}`;
  }

  put(kind: TerraformKind, wire: WireDynamicValue | undefined, value: Attrs | null, validated?: Validated): void {
    const bytes = wire?.msgpack;
    if (!bytes || bytes.length === 0 || value === null) return;
    const key = WireValues.key(kind, bytes);
    this.entries.delete(key);
    this.entries.set(key, { value, validated });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  take(kind: TerraformKind, wire: WireDynamicValue | null | undefined): { readonly value: Attrs; readonly validated?: Validated } | undefined {
    const bytes = wire?.msgpack;
    if (!bytes || bytes.length === 0 || this.entries.size === 0) return undefined;
    const key = WireValues.key(kind, bytes);
    const hit = this.entries.get(key);
    if (hit) this.entries.delete(key);
    return hit;
  }
}

function isAttrs(v: CtyValue): v is Attrs {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Private bytes are the provider's own (JSON). A plan with prior state leaves the prior id in its
 * planned_private: when Terraform decides on a replacement it plans again as a create and hands that
 * back as prior_private, which is how the create knows whose object it replaces. An apply drops it.
 */
const REPLAN_OF = 'replan_of';

function readPrivate(bytes: Buffer | Uint8Array | null | undefined): Record<string, unknown> {
  if (!bytes || bytes.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function writePrivate(fields: Record<string, unknown>): Buffer {
  const kept = Object.entries(fields).filter(([, v]) => v !== undefined);
  return kept.length === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(Object.fromEntries(kept)), 'utf8');
}

/**
 * Inside a configured value, the same rule per nested attribute: an optional + computed one left
 * null (a block's `read_only` with a default) takes the engine's value, everything else stays as
 * configured.
 */
function conformNested(type: AttrType, engine: Value | undefined, configured: Value): Value {
  if (configured === null || isUnknown(configured) || engine === undefined || engine === null || isUnknown(engine)) return configured;
  if (type.kind === 'list' && Array.isArray(configured) && Array.isArray(engine) && engine.length === configured.length) {
    return configured.map((c, i) => conformNested(type.element, engine[i], c));
  }
  if (type.kind === 'object' && typeof configured === 'object' && !Array.isArray(configured) && typeof engine === 'object' && !Array.isArray(engine)) {
    const out: Attrs = {};
    for (const [name, attr] of Object.entries(type.attributes)) {
      const c = configured[name] ?? null;
      out[name] = c === null && isComputed(attr) ? (engine[name] ?? attr.default ?? null) : conformNested(attr.type, engine[name], c);
    }
    return out;
  }
  return configured;
}

export class VicProvider {
  private readonly schemas: ProviderSchemas;
  private settings: ConnectionSettings | undefined;
  private configureProblems: Diagnostic[] = [];
  private enginePromise: Promise<Engine> | undefined;
  private stopController = new AbortController();
  private readonly reads: ReadCoalescer;
  /** State entries Terraform read in this command, told to the engine before the next plan. */
  private readonly stateEntries: { type: ResourceType; state: Attrs }[] = [];
  private destroyRunCache: boolean | undefined;
  private readonly wireValues = new WireValues();

  constructor(private readonly opts: VicProviderOptions) {
    this.schemas = opts.schemas ?? providerSchemas();
    this.reads = new ReadCoalescer(
      async (requests) => (await this.engine()).read(requests),
      (size) => this.opts.logger.log('debug', 'batched refresh', { resources: size }),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Lookup and conversion

  private resourceKind(typeName: string): TerraformKind {
    const k = this.schemas.resources.get(typeName);
    if (!k) throw new UnknownTypeError('resource', typeName, [...this.schemas.resources.keys()]);
    return k;
  }

  private dataSourceKind(typeName: string): TerraformKind {
    const k = this.schemas.dataSources.get(typeName);
    if (!k) throw new UnknownTypeError('data source', typeName, [...this.schemas.dataSources.keys()]);
    return k;
  }

  private decode(kind: TerraformKind, value: WireDynamicValue | null | undefined): Attrs | null {
    const remembered = this.wireValues.take(kind, value);
    if (remembered) return remembered.value;
    const v = decodeDynamicValue(kind.type, value as { msgpack?: Uint8Array; json?: Uint8Array } | undefined);
    if (v === null) return null;
    if (!isAttrs(v)) throw new CodecError('', `${kind.typeName}: expected an object`);
    return v;
  }

  private encode(kind: TerraformKind, value: Attrs | null): { msgpack: Buffer } {
    return { msgpack: encodeMsgpack(kind.type, value) };
  }

  private resourceType(kind: TerraformKind): ResourceType {
    return kind.declaration!.type;
  }

  /** Errors become diagnostics; ResourceError problems keep their attribute paths. */
  private failure(kind: TerraformKind | undefined, summary: string, err: unknown, value?: CtyValue): Diagnostic[] {
    if (err instanceof ResourceError && err.problems.length > 0 && kind) {
      return problemDiagnostics(kind, err.problems, value);
    }
    if (err instanceof UnknownTypeError) return [errorDiagnostic(err.message, err.detail)];
    return [errorDiagnostic(summary, messageOf(err))];
  }

  // -------------------------------------------------------------------------------------------
  // Engine: connected once the provider is configured, so that short phases (validate, schema)
  // never load it

  /** The engine, told first of the state entries Terraform has read since the last plan. */
  private async planningEngine(): Promise<Engine> {
    const engine = await this.engine();
    for (const { type, state } of this.stateEntries.splice(0)) engine.inState(type, state);
    return engine;
  }

  private engine(): Promise<Engine> {
    if (!this.enginePromise) {
      const settings = this.settings;
      if (!settings) {
        const why = this.configureProblems.map((d) => d.detail).join(' ');
        return Promise.reject(new Error(`the provider is not configured${why ? `: ${why}` : ''}`));
      }
      this.enginePromise = this.connectEngine(settings);
    }
    const pending = this.enginePromise;
    // A failed connection is reported to the call that waited for it; the next call tries again.
    return pending.catch((err: unknown) => {
      if (this.enginePromise === pending) this.enginePromise = undefined;
      throw err;
    });
  }

  private connectEngine(settings: ConnectionSettings): Promise<Engine> {
    this.opts.logger.log('info', 'connecting to vSphere', { url: settings.url, user: settings.username });
    const connecting = this.opts.connect(settings).catch((err: unknown) => {
      throw new Error(`cannot connect to vSphere at ${settings.url} as ${settings.username}: ${messageOf(err)}`);
    });
    // Kept for the first call that needs the engine, which reports the failure.
    connecting.catch(() => undefined);
    return connecting;
  }

  /**
   * Every phase that configures the provider goes on to read or plan: log in now, once the
   * ConfigureProvider answer is on its way, while Terraform builds its graph, instead of on the
   * first resource's critical path.
   *
   * Not before that answer has left: loading the engine is about 30 ms of synchronous work, and a
   * unary reply leaves over two turns of the event loop (HTTP/2 headers and message in the first,
   * the trailers Terraform waits for in the next, when nghttp2 asks for them). Started from one
   * setImmediate, the load held the trailers back: Terraform got the answer 33–35 ms after it was
   * served (`TF_LOG=trace`, bench/README.md); from the second turn, within 1 ms.
   */
  private connectSoon(): void {
    setImmediate(() =>
      setImmediate(() => {
        const settings = this.settings;
        if (settings && !this.enginePromise) this.enginePromise = this.connectEngine(settings);
      }),
    );
  }

  async close(): Promise<void> {
    this.stopController.abort(new Error('the provider is shutting down'));
    const pending = this.enginePromise;
    this.enginePromise = undefined;
    if (pending) await (await pending.catch(() => undefined))?.close();
  }

  // -------------------------------------------------------------------------------------------
  // RPCs

  getProviderSchema() {
    const s = this.schemas;
    const map = (m: ReadonlyMap<string, TerraformKind>) => Object.fromEntries([...m].map(([n, k]) => [n, k.tfSchema]));
    return {
      provider: s.provider.tfSchema,
      resource_schemas: map(s.resources),
      data_source_schemas: map(s.dataSources),
      diagnostics: [],
      // plan_destroy: the plan of a resource leaving the configuration reaches the engine, which
      // refuses a create that would take its object over (a rename without a moved block).
      // get_provider_schema_optional: the schema is fixed at build time and no RPC depends on this
      // one having been called, so Terraform's later starts in a command take the schema it has.
      server_capabilities: { plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false },
    };
  }

  validateProviderConfig(req: { config?: WireDynamicValue }): Diags {
    const kind = this.schemas.provider;
    try {
      const config = this.decode(kind, req.config) ?? {};
      const { problems } = validateAttrs(kind.schema, config);
      // Checks across attributes (plain HTTP needs its opt-in), which may come from the environment.
      const env = this.opts.env ?? process.env;
      if (problems.length === 0) problems.push(...namingEnvSources(config, connectionProblems(connectionFromEnv(config, env)), env));
      return { diagnostics: problemDiagnostics(kind, problems, config) };
    } catch (err) {
      return { diagnostics: this.failure(kind, 'Invalid provider configuration', err) };
    }
  }

  validateResourceConfig(req: { type_name: string; config?: WireDynamicValue }): Diags {
    const result = this.validateConfig(() => this.resourceKind(req.type_name), req.config, true);
    return this.inDestroyRun() ? { diagnostics: notBlockingTheDestroy(result.diagnostics) } : result;
  }

  validateDataResourceConfig(req: { type_name: string; config?: WireDynamicValue }): Diags {
    return this.validateConfig(() => this.dataSourceKind(req.type_name), req.config);
  }

  /** Pure schema validation (no vSphere): every problem, each pointing at its attribute. */
  private validateConfig(kindOf: () => TerraformKind, wire: WireDynamicValue | undefined, planned = false): Diags {
    let kind: TerraformKind | undefined;
    try {
      kind = kindOf();
      const config = this.decode(kind, wire) ?? {};
      const validated = validateAttrs(kind.schema, config);
      // Terraform plans a resource right after it validates its configuration: the plan takes both.
      if (planned) this.wireValues.put(kind, wire, config, validated);
      return { diagnostics: problemDiagnostics(kind, validated.problems, config) };
    } catch (err) {
      return { diagnostics: this.failure(kind, 'Invalid configuration', err) };
    }
  }

  configureProvider(req: { terraform_version?: string; config?: WireDynamicValue }): Diags {
    const kind = this.schemas.provider;
    try {
      const config = this.decode(kind, req.config) ?? {};
      const unknown = Object.entries(config).filter(([, v]) => containsUnknown(v));
      if (unknown.length > 0) {
        const problems: Problem[] = unknown.map(([name]) => ({
          path: [name],
          severity: 'error',
          summary: `Provider argument "${name}" is not known until apply`,
          detail: `The vic provider connects to vSphere while planning, so "${name}" must be known then. Use a value that does not depend on a resource, or apply the resources it depends on first (terraform apply -target=...).`,
        }));
        this.configureProblems = problemDiagnostics(kind, problems, config);
        return { diagnostics: this.configureProblems };
      }
      const env = this.opts.env ?? process.env;
      const { settings, problems } = connectionSettings(connectionFromEnv(config, env));
      this.configureProblems = problemDiagnostics(kind, namingEnvSources(config, problems, env), config);
      this.settings = hasErrors(this.configureProblems) ? undefined : settings;
      this.enginePromise = undefined;
      if (this.settings) this.connectSoon();
      this.opts.logger.log('debug', 'provider configured', { terraform_version: req.terraform_version, url: settings?.url });
      return { diagnostics: this.configureProblems };
    } catch (err) {
      return { diagnostics: this.failure(kind, 'Invalid provider configuration', err) };
    }
  }

  /**
   * Called for every managed resource on every refresh, even at the current version. The stored JSON
   * is in the schema of `version`: migrateState (shared by every front end) brings it up, then it is
   * shaped to the current schema (attributes added since are missing from it: they become null).
   */
  upgradeResourceState(req: { type_name: string; version?: number | string; raw_state?: { json?: Buffer; flatmap?: Record<string, string> } }) {
    let kind: TerraformKind | undefined;
    try {
      kind = this.resourceKind(req.type_name);
      const d = kind.declaration!;
      const from = Number(req.version ?? 0);
      if (!req.raw_state?.json || req.raw_state.json.length === 0) {
        const flat = req.raw_state?.flatmap && Object.keys(req.raw_state.flatmap).length > 0;
        if (!flat) return { upgraded_state: this.encode(kind, null), diagnostics: [] };
        return {
          diagnostics: [
            errorDiagnostic(
              `Unsupported state format for ${req.type_name}`,
              `The state of this ${req.type_name} is in the pre-0.12 "flatmap" format, which this provider never wrote. Remove it with "terraform state rm" and import it again.`,
            ),
          ],
        };
      }
      let attrs: Attrs;
      try {
        attrs = migrateState(d, from, JSON.parse(req.raw_state.json.toString('utf8')) as Attrs);
      } catch (err) {
        if (!(err instanceof StateVersionError && err.newer)) throw err;
        return {
          diagnostics: [
            errorDiagnostic(
              `State of ${req.type_name} is from a newer provider`,
              `The state was written with schema version ${from}; this provider knows versions up to ${d.schemaVersion}. Upgrade the vic provider (terraform init -upgrade).`,
            ),
          ],
        };
      }
      const upgraded = fromJsonValue(kind.type, attrs, undefined, { lenientObjects: true }) as Attrs;
      // Terraform upgrades every state entry before it refreshes or plans it, with -refresh=false too.
      this.stateEntries.push({ type: d.type, state: upgraded });
      if (from !== d.schemaVersion) this.opts.logger.log('info', 'upgraded resource state', { type: req.type_name, from, to: d.schemaVersion });
      const upgradedState = this.encode(kind, upgraded);
      // Terraform refreshes from the state it upgraded.
      this.wireValues.put(kind, upgradedState, upgraded);
      return { upgraded_state: upgradedState, diagnostics: [] };
    } catch (err) {
      return { diagnostics: this.failure(kind, `Cannot upgrade the state of ${req.type_name}`, err) };
    }
  }

  async readResource(req: { type_name: string; current_state?: WireDynamicValue; private?: Buffer }) {
    let kind: TerraformKind | undefined;
    try {
      kind = this.resourceKind(req.type_name);
      const state = this.decode(kind, req.current_state);
      if (state === null) return { new_state: this.encode(kind, null), diagnostics: [], private: req.private };
      const fresh = await this.reads.read({ type: this.resourceType(kind), state });
      // Only a NotFound from vSphere yields null here; Terraform then plans a create.
      const newState = fresh === null ? null : this.complete(kind, fresh, state);
      const sent = unchanged(req.current_state, state, newState) ?? this.encode(kind, newState);
      // Terraform plans from the state it refreshed.
      this.wireValues.put(kind, sent, newState);
      return { new_state: sent, diagnostics: [], private: req.private };
    } catch (err) {
      return { diagnostics: this.failure(kind, `Cannot refresh ${req.type_name}`, err) };
    }
  }

  async planResourceChange(req: {
    type_name: string;
    prior_state?: WireDynamicValue;
    proposed_new_state?: WireDynamicValue;
    config?: WireDynamicValue;
    prior_private?: Buffer;
  }) {
    let kind: TerraformKind | undefined;
    let config: Attrs | null = null;
    try {
      kind = this.resourceKind(req.type_name);
      const prior = this.decode(kind, req.prior_state);
      // Only its nullness matters: what is planned comes from the configuration and the engine.
      const destroy = isNullDynamicValue(req.proposed_new_state as { msgpack?: Uint8Array; json?: Uint8Array } | undefined);
      const validatedConfig = this.wireValues.take(kind, req.config);
      config = validatedConfig?.value ?? this.decode(kind, req.config);
      if (!destroy && config !== null && this.inDestroyRun()) return this.planInDestroyRun(kind, prior, config, req.prior_private);
      if (destroy || config === null) {
        // A destroy (plan_destroy): the engine checks claims, and what vSphere is certain to refuse
        // (a VCH's pool holding containers docker made: one read of that pool).
        const problems = prior === null ? [] : (await (await this.planningEngine()).plan(this.resourceType(kind), prior, null)).problems;
        const diagnostics = problemDiagnostics(kind, problems, prior);
        if (hasErrors(diagnostics)) return { diagnostics };
        return { planned_state: this.encode(kind, null), requires_replace: [], diagnostics, planned_private: req.prior_private };
      }
      const engine = await this.planningEngine();
      const replanOf = prior === null ? readPrivate(req.prior_private)[REPLAN_OF] : undefined;
      const change = await engine.plan(this.resourceType(kind), prior, config, {
        ...(typeof replanOf === 'string' ? { replaces: replanOf } : {}),
        validated: validatedConfig?.validated,
      });
      const diagnostics = problemDiagnostics(kind, change.problems, config);
      if (hasErrors(diagnostics)) return { diagnostics };
      for (const note of change.notes)
        diagnostics.push(warningDiagnostic(note, `Planned change to ${req.type_name}: ${change.reasons.join('; ') || change.action}.`));
      const planned = this.conformPlan(kind, change.planned ?? {}, config, prior);
      this.opts.logger.log('debug', 'planned', { type: req.type_name, action: change.action, reasons: change.reasons.join('; ') });
      return {
        planned_state: unchanged(req.prior_state, prior, planned) ?? this.encode(kind, planned),
        requires_replace: this.requiresReplace(kind, change, prior, planned),
        planned_private: writePrivate({ ...readPrivate(req.prior_private), [REPLAN_OF]: typeof prior?.id === 'string' && prior.id ? prior.id : undefined }),
        diagnostics,
      };
    } catch (err) {
      return { diagnostics: this.failure(kind, `Cannot plan ${req.type_name}`, err, config) };
    }
  }

  /**
   * Whether this process serves a destroy (`terraform destroy`, `plan -destroy`, `apply -destroy`).
   * Terraform starts a destroy with a normal plan of the configuration, only to refresh the state,
   * and drops what it plans; an error there would end the destroy.
   */
  private inDestroyRun(): boolean {
    this.destroyRunCache ??= (this.opts.destroyRun ?? (() => startedByDestroy(this.opts.env ?? process.env)))();
    return this.destroyRunCache;
  }

  /**
   * The configuration's plan in a destroy's first, refresh-only use of it: the configuration as it
   * is, never checked against vSphere, the registries or the other resources, since nothing is
   * created or updated from it (Terraform plans the deletes next, and those the engine checks).
   */
  private planInDestroyRun(kind: TerraformKind, prior: Attrs | null, config: Attrs, priorPrivate: Buffer | undefined) {
    this.opts.logger.log('debug', 'destroy run: the configuration is planned unchecked', { type: kind.typeName });
    return {
      planned_state: this.encode(kind, this.conformPlan(kind, prior ?? {}, config, prior)),
      requires_replace: [],
      planned_private: priorPrivate,
      diagnostics: [],
    };
  }

  async applyResourceChange(req: {
    type_name: string;
    prior_state?: WireDynamicValue;
    planned_state?: WireDynamicValue;
    config?: WireDynamicValue;
    planned_private?: Buffer;
  }) {
    let kind: TerraformKind | undefined;
    let prior: Attrs | null = null;
    let planned: Attrs | null = null;
    try {
      kind = this.resourceKind(req.type_name);
      prior = this.decode(kind, req.prior_state);
      planned = this.decode(kind, req.planned_state);
      const change = approvedChange(this.resourceType(kind), prior, planned);
      const engine = await this.engine();
      const warnings: Diagnostic[] = [];
      const options: ApplyOptions = {
        signal: this.stopController.signal,
        // Terraform starts the provider anew for each run's apply.
        oneRun: true,
        onWarning: (w) => warnings.push(warningDiagnostic(w.summary, w.detail)),
        onProgress: (e) =>
          this.opts.logger.log('info', `${e.type} ${e.name}: ${e.phase}${e.message ? ` (${e.message})` : ''}`, { current: e.current, total: e.total }),
      };
      this.opts.logger.log('info', 'applying', { type: req.type_name, action: change.action });
      const result = await engine.apply(change, options);
      const newState = planned === null || result === null ? null : this.conformApplied(kind, result, planned);
      return {
        new_state: this.encode(kind, newState),
        private: writePrivate({ ...readPrivate(req.planned_private), [REPLAN_OF]: undefined }),
        diagnostics: warnings,
      };
    } catch (err) {
      const diagnostics = this.failure(kind, `Cannot apply ${req.type_name}`, err, planned);
      // Keep what exists: a failed create leaves nothing (a retry adopts a half-made object by its
      // deterministic id); a failed update or delete keeps the prior state.
      return kind ? { new_state: this.encode(kind, prior), diagnostics } : { diagnostics };
    }
  }

  async importResourceState(req: { type_name: string; id: string }) {
    let kind: TerraformKind | undefined;
    try {
      kind = this.resourceKind(req.type_name);
      const engine = await this.engine();
      const state = await engine.importState(this.resourceType(kind), req.id);
      return { imported_resources: [{ type_name: req.type_name, state: this.encode(kind, this.complete(kind, state, null)) }], diagnostics: [] };
    } catch (err) {
      return { diagnostics: this.failure(kind, `Cannot import ${req.type_name} "${req.id}"`, err) };
    }
  }

  async readDataSource(req: { type_name: string; config?: WireDynamicValue }) {
    let kind: TerraformKind | undefined;
    let config: Attrs | null = null;
    try {
      kind = this.dataSourceKind(req.type_name);
      config = this.decode(kind, req.config) ?? {};
      const engine = await this.engine();
      const found = await engine.readDataSource(this.resourceType(kind), config);
      const state: Attrs = this.complete(kind, found, null);
      // Lookup arguments come back exactly as configured (Terraform checks it).
      for (const [name, attr] of Object.entries(kind.schema)) if (!attr.computed) state[name] = config[name] ?? null;
      return { state: this.encode(kind, state), diagnostics: [] };
    } catch (err) {
      const diagnostics = this.failure(kind, `Cannot read data source ${req.type_name}`, err, config);
      if (kind && config && this.inDestroyRun()) return this.dataSourceInDestroyRun(kind, config, diagnostics);
      return { diagnostics };
    }
  }

  /**
   * A lookup that failed, in a destroy: its arguments as configured, the rest null. Terraform reads
   * data sources in the plan a destroy starts with, whose planned changes it drops, and a lookup that
   * fails there (a VCH a failed destroy already removed) would end the destroy.
   */
  private dataSourceInDestroyRun(kind: TerraformKind, config: Attrs, failure: Diagnostic[]) {
    const state: Attrs = {};
    for (const [name, attr] of Object.entries(kind.schema)) state[name] = attr.computed ? null : (config[name] ?? null);
    this.opts.logger.log('info', 'destroy run: a data source lookup failed and reads as null', { type: kind.typeName });
    return { state: this.encode(kind, state), diagnostics: notBlockingTheDestroy(failure) };
  }

  stopProvider(): { Error: string } {
    this.opts.logger.log('info', 'stop requested: cancelling in-flight work');
    this.stopController.abort(new Error('Terraform asked the provider to stop (interrupt)'));
    this.stopController = new AbortController();
    return { Error: '' };
  }

  /** The signal in-flight applies observe; aborted by StopProvider. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  // -------------------------------------------------------------------------------------------
  // Terraform's rules for plans and results

  /** Every schema attribute present (absent → null), nothing outside the schema. */
  private complete(kind: TerraformKind, attrs: Attrs, fallback: Attrs | null): Attrs {
    const out: Attrs = {};
    for (const name of Object.keys(kind.schema)) out[name] = attrs[name] !== undefined ? attrs[name] : (fallback?.[name] ?? null);
    return out;
  }

  /**
   * A valid plan keeps configured values exactly; only computed attributes may differ, and an
   * optional + computed one only when config leaves it null (Terraform's internal/plans/objchange/plan_valid.go).
   */
  private conformPlan(kind: TerraformKind, engine: Attrs, config: Attrs, prior: Attrs | null): Attrs {
    const planned: Attrs = {};
    for (const [name, attr] of Object.entries(kind.schema)) {
      const configured = config[name] ?? null;
      if (!isComputed(attr) || configured !== null) {
        planned[name] = conformNested(attr.type, engine[name], configured);
        continue;
      }
      let v: Value | undefined = engine[name];
      if (v === undefined) v = attr.default !== undefined ? attr.default : prior === null ? UNKNOWN : (prior[name] ?? null);
      planned[name] = v;
    }
    return planned;
  }

  /** After apply every value is known and equals what the plan promised where it promised one. */
  private conformApplied(kind: TerraformKind, result: Attrs, planned: Attrs): Attrs {
    const out: Attrs = {};
    for (const name of Object.keys(kind.schema)) {
      const promised = planned[name];
      let v = result[name] === undefined ? null : result[name];
      if (!containsUnknown(promised) && promised !== undefined && !sameValue(promised, v)) {
        this.opts.logger.log('debug', 'applied value differs from the plan; keeping the planned value until the next refresh', {
          type: kind.typeName,
          attribute: name,
        });
        v = promised;
      }
      if (containsUnknown(v)) throw new Error(`the engine left "${name}" of ${kind.typeName} unknown after apply; please report this`);
      out[name] = v;
    }
    return out;
  }

  /**
   * The forceNew paths plus the engine's own; in an update, not those that changed: the engine found
   * the new value names the same object (a moved tag with the same digest, a volume detached
   * outside) and keeps it in place. Terraform keeps only the paths whose planned value differs from
   * the prior one, and none on a create; forceNew paths surely unchanged are left out here already,
   * which spares both sides encoding and checking every such path of every resource in a plan that
   * changes nothing.
   */
  private requiresReplace(kind: TerraformKind, change: PlannedChange, prior: Attrs | null, planned: Attrs): { steps: TfPathStep[] }[] {
    if (prior === null) return [];
    const kept = change.action === 'update' ? new Set(change.changes.map((c) => formatPath(c.path))) : new Set<string>();
    const paths: AttrPath[] = Object.entries(kind.schema)
      .filter(([n, a]) => a.forceNew && !kept.has(n) && !surelyEqual(prior[n], planned[n]))
      .map(([n]) => [n]);
    for (const p of change.requiresReplace) if (!paths.some((q) => formatPath(q) === formatPath(p))) paths.push(p);
    return paths.map((p) => ({ steps: attributePathSteps(kind.type, p) }));
  }
}

/**
 * Validation errors of a resource's configuration as warnings, in a destroy: they are about what an
 * apply would create or update, and a destroy does neither.
 */
function notBlockingTheDestroy(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.map((d) =>
    d.severity === 'ERROR'
      ? {
          ...d,
          severity: 'WARNING',
          detail: `${d.detail}\nThis does not stop the destroy, which creates and updates nothing; fix it before the next apply.`,
        }
      : d,
  );
}

class UnknownTypeError extends Error {
  readonly detail: string;
  constructor(what: string, name: string, known: string[]) {
    super(`Unknown ${what} type "${name}"`);
    this.detail = `The vic provider has no ${what} "${name}". Known: ${known.join(', ')}.`;
  }
}
