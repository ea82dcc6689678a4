/**
 * The PropertyCollector: reads many properties of many objects in one round trip.
 *
 * - `retrieveFromContainer` is the engine's batched refresh: one ContainerView, one
 *   RetrievePropertiesEx (plus ContinueRetrievePropertiesEx pages), one DestroyView, however many
 *   objects there are.
 * - `retrieveObjects` reads given objects; deleted ones are left out (reportMissingObjectsInResults)
 *   instead of failing the whole batch, so the caller can tell "gone" from "failed".
 * - `UpdateCollector` wraps CreateFilter + WaitForUpdatesEx on a private collector and the
 *   long-timeout connection.
 */
import { NotAuthenticatedError, NotFoundError, isNotFound } from './errors';
import type { VimClient } from './session';
import { asArray, moRef, type ManagedObjectReference } from './xml';

export interface PropertySelection {
  /** vim25 managed object type, e.g. `VirtualMachine`. */
  readonly type: string;
  /** Property paths, e.g. `name`, `config.extraConfig`, `runtime.powerState`. */
  readonly paths: readonly string[];
}

export interface MissingPropertyInfo {
  readonly path: string;
  /** The fault type, e.g. `InvalidProperty`, `NotAuthenticated`. */
  readonly fault: string;
  readonly message?: string;
}

/** One object's properties: `props[path]` holds the decoded value (absent when unset). */
export interface ObjectRow<P = Record<string, unknown>> {
  readonly ref: ManagedObjectReference;
  readonly props: P;
  readonly missing: readonly MissingPropertyInfo[];
}

export interface RetrieveOptions {
  /** Page size (RetrieveOptions.maxObjects); the server may send fewer. */
  readonly maxObjects?: number;
}

export interface ContainerQuery extends RetrieveOptions {
  /** Folder, datacenter, cluster, resource pool or host whose descendants to read. */
  readonly container: ManagedObjectReference;
  readonly select: readonly PropertySelection[];
  /** Include descendants, not only direct children (default true). */
  readonly recursive?: boolean;
}

interface DecodedObjectContent {
  obj: ManagedObjectReference;
  propSet?: Array<{ name: string; val?: unknown }>;
  missingSet?: Array<{ path: string; fault?: { fault?: { $type?: string }; localizedMessage?: string } }>;
}
interface DecodedRetrieveResult {
  token?: string;
  objects?: DecodedObjectContent[];
}

function propertySpecs(select: readonly PropertySelection[]): unknown[] {
  return select.map((s) => ({ type: s.type, all: s.paths.length === 0 ? true : undefined, pathSet: s.paths }));
}

function toRow<P>(content: DecodedObjectContent): ObjectRow<P> {
  const props: Record<string, unknown> = {};
  for (const prop of asArray(content.propSet)) props[prop.name] = prop.val;
  const missing = asArray(content.missingSet).map((m) => ({
    path: m.path,
    fault: m.fault?.fault?.$type ?? 'SystemError',
    message: m.fault?.localizedMessage,
  }));
  return { ref: content.obj, props: props as P, missing };
}

/**
 * vcsim answers RetrieveProperties without a session with the properties in missingSet
 * (NotAuthenticated) instead of a fault; raise it as a fault so the session re-logs in.
 */
function raiseInBandNotAuthenticated(method: string, collector: ManagedObjectReference) {
  return (result: unknown): void => {
    for (const content of asArray((result as DecodedRetrieveResult | undefined)?.objects)) {
      for (const m of asArray(content.missingSet)) {
        if (m.fault?.fault?.$type === 'NotAuthenticated') {
          throw new NotAuthenticatedError(
            { faultName: 'NotAuthenticated', method, object: collector },
            `${method} on ${collector.value}: the session is no longer valid`,
          );
        }
      }
    }
  };
}

/**
 * RetrievePropertiesEx with all ContinueRetrievePropertiesEx pages, as rows.
 * `specSet` is a list of vim25 PropertyFilterSpec values (build them in WSDL order).
 */
export async function retrievePropertiesEx<P = Record<string, unknown>>(
  client: VimClient,
  specSet: readonly unknown[],
  options: RetrieveOptions = {},
): Promise<Array<ObjectRow<P>>> {
  const collector = client.serviceContent.propertyCollector;
  const rows: Array<ObjectRow<P>> = [];
  let page = await client.call<DecodedRetrieveResult | undefined>(
    'RetrievePropertiesEx',
    collector,
    { specSet, options: { maxObjects: options.maxObjects } },
    { returns: 'RetrieveResult', inspect: raiseInBandNotAuthenticated('RetrievePropertiesEx', collector) },
  );
  for (;;) {
    for (const content of asArray(page?.objects)) rows.push(toRow<P>(content));
    const token = page?.token;
    if (!token) return rows;
    page = await client.call<DecodedRetrieveResult | undefined>(
      'ContinueRetrievePropertiesEx',
      collector,
      { token },
      { returns: 'RetrieveResult', inspect: raiseInBandNotAuthenticated('ContinueRetrievePropertiesEx', collector) },
    );
  }
}

/** Runs `read` again once when the session was renewed meanwhile: views and tokens die with a session. */
async function withSessionBoundObjects<T>(client: VimClient, read: () => Promise<T>): Promise<T> {
  const generation = client.sessionGeneration;
  try {
    return await read();
  } catch (err) {
    if (client.sessionGeneration !== generation && isNotFound(err)) {
      return read();
    }
    throw err;
  }
}

export async function createContainerView(
  client: VimClient,
  container: ManagedObjectReference,
  types: readonly string[],
  recursive = true,
): Promise<ManagedObjectReference> {
  return client.call<ManagedObjectReference>(
    'CreateContainerView',
    client.serviceContent.viewManager,
    { container, type: types, recursive },
    { returns: 'moref' },
  );
}

export async function destroyView(client: VimClient, view: ManagedObjectReference): Promise<void> {
  await client.call('DestroyView', view);
}

/**
 * Reads `select`ed properties of every object of the selected types below `container`: one
 * CreateContainerView, one RetrievePropertiesEx (+ one call per further page), one DestroyView.
 */
export async function retrieveFromContainer<P = Record<string, unknown>>(client: VimClient, query: ContainerQuery): Promise<Array<ObjectRow<P>>> {
  return withSessionBoundObjects(client, async () => {
    const view = await createContainerView(
      client,
      query.container,
      query.select.map((s) => s.type),
      query.recursive ?? true,
    );
    try {
      const spec = {
        propSet: propertySpecs(query.select),
        objectSet: {
          obj: view,
          skip: true,
          selectSet: { $type: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false },
        },
      };
      return await retrievePropertiesEx<P>(client, [spec], { maxObjects: query.maxObjects });
    } finally {
      await destroyView(client, view).catch(() => undefined);
    }
  });
}

/**
 * Reads `paths` of the given objects in one RetrievePropertiesEx (objects of several types are
 * fine; each type's paths come from `pathsByType` or `paths`). Objects that no longer exist are
 * left out of the result rather than failing the batch.
 */
export async function retrieveObjects<P = Record<string, unknown>>(
  client: VimClient,
  refs: readonly ManagedObjectReference[],
  paths: readonly string[] | Readonly<Record<string, readonly string[]>>,
  options: RetrieveOptions = {},
): Promise<Array<ObjectRow<P>>> {
  if (refs.length === 0) return [];
  const types = [...new Set(refs.map((r) => r.type))];
  const select = types.map((type) => ({
    type,
    paths: Array.isArray(paths) ? (paths as readonly string[]) : ((paths as Record<string, readonly string[]>)[type] ?? []),
  }));
  const spec = {
    propSet: propertySpecs(select),
    objectSet: refs.map((obj) => ({ obj, skip: false })),
    reportMissingObjectsInResults: true,
  };
  const rows = await retrievePropertiesEx<P>(client, [spec], options);
  // vCenter reports a deleted object as a row whose missingSet holds ManagedObjectNotFound.
  return rows.filter((row) => !row.missing.some((m) => m.fault === 'ManagedObjectNotFound'));
}

/** Reads `paths` of one object; throws NotFoundError naming the object when it does not exist. */
export async function retrieveObject<P = Record<string, unknown>>(client: VimClient, ref: ManagedObjectReference, paths: readonly string[]): Promise<P> {
  const [row] = await retrieveObjects<P>(client, [ref], paths);
  if (!row) {
    throw new NotFoundError(
      { faultName: 'ManagedObjectNotFound', method: 'RetrievePropertiesEx', object: ref },
      `${ref.type} ${ref.value} not found (it was deleted, or the id is wrong)`,
    );
  }
  return row.props;
}

// ---------------------------------------------------------------------------------------------
// CreateFilter + WaitForUpdatesEx

export interface PropertyChange {
  readonly name: string;
  readonly op: 'add' | 'remove' | 'assign' | 'indirectRemove';
  readonly val?: unknown;
}
export interface ObjectUpdate {
  readonly kind: 'enter' | 'leave' | 'modify';
  readonly obj: ManagedObjectReference;
  readonly changeSet: readonly PropertyChange[];
}
export interface UpdateBatch {
  readonly version: string;
  readonly truncated: boolean;
  readonly objects: readonly ObjectUpdate[];
}

interface DecodedUpdateSet {
  version: string;
  truncated?: boolean;
  filterSet?: Array<{ objectSet?: Array<{ kind: ObjectUpdate['kind']; obj: ManagedObjectReference; changeSet?: PropertyChange[] }> }>;
}

/**
 * A private PropertyCollector for change notifications: add filters, then `waitForUpdates` in a
 * loop. It uses the long-timeout connection, so a wait never trips the ordinary request timeout.
 * Always `destroy()` it (that also destroys its filters).
 */
export class UpdateCollector {
  private version = '';

  private constructor(
    private readonly client: VimClient,
    readonly collector: ManagedObjectReference,
  ) {}

  static async create(client: VimClient): Promise<UpdateCollector> {
    const collector = await client.call<ManagedObjectReference>('CreatePropertyCollector', client.serviceContent.propertyCollector, {}, { returns: 'moref' });
    return new UpdateCollector(client, collector);
  }

  /** Watches `select`ed paths of `objects` (or of every object in a container view built by the caller). */
  async addFilter(objects: readonly ManagedObjectReference[], select: readonly PropertySelection[], partialUpdates = false): Promise<ManagedObjectReference> {
    const spec = { propSet: propertySpecs(select), objectSet: objects.map((obj) => ({ obj, skip: false })) };
    return this.client.call<ManagedObjectReference>('CreateFilter', this.collector, { spec, partialUpdates }, { returns: 'moref' });
  }

  /** Watches the objects of a container view (e.g. every VM of a datacenter). */
  async addViewFilter(view: ManagedObjectReference, select: readonly PropertySelection[]): Promise<ManagedObjectReference> {
    const spec = {
      propSet: propertySpecs(select),
      objectSet: { obj: view, skip: true, selectSet: { $type: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false } },
    };
    return this.client.call<ManagedObjectReference>('CreateFilter', this.collector, { spec, partialUpdates: false }, { returns: 'moref' });
  }

  /**
   * The next batch of changes since the previous call (the first call reports every object as
   * `enter`), or undefined when `maxWaitSeconds` passed without a change.
   */
  async waitForUpdates(maxWaitSeconds = 60): Promise<UpdateBatch | undefined> {
    const updates = await this.client.call<DecodedUpdateSet | undefined>(
      'WaitForUpdatesEx',
      this.collector,
      { version: this.version, options: { maxWaitSeconds } },
      { returns: 'UpdateSet', long: true, timeoutMs: (maxWaitSeconds + 60) * 1000 },
    );
    if (!updates) return undefined;
    this.version = updates.version;
    const objects = asArray(updates.filterSet).flatMap((f) => asArray(f.objectSet).map((o) => ({ kind: o.kind, obj: o.obj, changeSet: asArray(o.changeSet) })));
    return { version: updates.version, truncated: updates.truncated === true, objects };
  }

  /** Ends a pending `waitForUpdates` at once (it fails with RequestCanceled); best effort. */
  async cancelWait(): Promise<void> {
    await this.client.call('CancelWaitForUpdates', this.collector).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    await this.client.call('DestroyPropertyCollector', this.collector).catch(() => undefined);
  }
}

/** The root folder, for queries over the whole inventory. */
export function rootFolder(client: VimClient): ManagedObjectReference {
  return client.serviceContent.rootFolder ?? moRef('Folder', 'group-d1');
}
