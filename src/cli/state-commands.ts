/**
 * `vic import`, `vic state list` and `vic state rm`: the state file edited by hand, as Terraform's
 * `import` and `state` commands do. An import reads the object through the same engine path as the
 * Terraform provider's ImportResourceState; `state rm` forgets an object and never touches vSphere.
 */
import { addressOf, importedAttrs, referencesOf, type Engine, type StackState, type StateEntry } from '../engine';
import { declarationFor, nearestName, type ConnectionSettings } from '../resources';
import { CliError, EXIT, vicCommand, type CliContext } from './context';
import { loadSpec } from './spec';
import { lockState, ownedBy, writeState } from './state-file';
import { declaredAddresses, locateState, locationFlags, readOwnedState, type StateLocation } from './state-location';

export type { StateLocation } from './state-location';

export interface ImportOptions {
  readonly file: string;
  readonly state?: string;
  readonly address: string;
  readonly id: string;
  readonly lockTimeoutMs?: number;
}

export interface StateRmOptions extends StateLocation {
  readonly addresses: readonly string[];
  readonly dryRun?: boolean;
  readonly lockTimeoutMs?: number;
}

/** ` Did you mean container_vm.web?` when an address near `address` is among `known`. */
function nearestAddress(address: string, known: Iterable<string>): string {
  const near = nearestName(address, known);
  return near ? ` Did you mean ${near}?` : '';
}

function idOf(entry: StateEntry): string {
  return String(entry.attrs.id ?? '');
}

/** The ID `vic import` takes for the object of `entry` (an image's is `<vch_id>/<digest>`: ResourceDeclaration.importId). */
function importIdOf(entry: StateEntry): string {
  return (declarationFor(entry.type).importId ?? ['id']).map((n) => String(entry.attrs[n] ?? '')).join('/');
}

/**
 * Adopts an existing vSphere object into the spec's state under `address`, which the spec must
 * declare and the state must not hold yet. Nothing in vSphere changes; the next plan compares the
 * object with the spec, and shows no change when it matches.
 */
export async function importCommand(ctx: CliContext, options: ImportOptions, settings: ConnectionSettings): Promise<number> {
  // The first import may make the state, even at a --state path given by hand.
  const { statePath } = locateState('import', options, { stateMustExist: false });
  const spec = loadSpec(options.file);
  const resource = spec.resources.find((r) => addressOf(r) === options.address);
  if (!resource) {
    const declared = spec.resources.map(addressOf);
    throw new CliError(
      `${options.address} is not declared in ${options.file}, so there is nothing to import it into.${nearestAddress(options.address, declared)} ` +
        `Declare it in the spec first (with the attributes the object has), then import again. Declared: ${declared.join(', ') || 'none'}.`,
      EXIT.usage,
    );
  }
  const release = await lockState(statePath, { timeoutMs: options.lockTimeoutMs, command: 'vic import' });
  // The commands this one suggests name the same spec and state as it was given.
  const where = locationFlags(options);
  try {
    const state = readOwnedState(
      'import',
      options,
      statePath,
      () => spec.resources.map(addressOf),
      (path) => vicCommand(['import', '-f', options.file, '--state', path, options.address, options.id]),
    );
    const held = state.resources[options.address];
    if (held) {
      throw new CliError(
        `${options.address} is already in the state ${statePath} (id ${idOf(held)}); vic manages one object per address. ` +
          `To adopt "${options.id}" there instead, forget the one it holds first: ${vicCommand(['state', 'rm', ...where, options.address])}`,
        EXIT.usage,
      );
    }
    ctx.out(`${options.address}: Importing from ID "${options.id}"...\n`);
    const { connectEngine } = await import('../engine');
    const engine: Engine = await connectEngine(settings);
    let attrs;
    try {
      // As read, with what the spec changes only in the state taken from it: the next plan shows
      // only what differs in vSphere.
      attrs = await importedAttrs(engine, resource, state, await engine.importState(resource.type, options.id));
    } catch (err) {
      throw new CliError(
        `cannot import ${options.address} from ID "${options.id}": ${err instanceof Error ? err.message : String(err)}\nNothing was changed: check the ID (vic ls --all lists what vic-iac made, with ids).`,
        EXIT.failure,
      );
    } finally {
      await engine.close();
    }
    // Two addresses over one object would each plan its changes, and a destroy would delete it twice.
    const twin = Object.entries(state.resources).find(([, e]) => e.type === resource.type && idOf(e) === String(attrs.id));
    if (twin) {
      throw new CliError(
        `cannot import ${options.address} from ID "${options.id}": that object (id ${String(attrs.id)}) is already in the state as ${twin[0]}. ` +
          `To move it, run ${vicCommand(['state', 'rm', ...where, twin[0]])}, then import again.`,
        EXIT.usage,
      );
    }
    const entry: StateEntry = {
      type: resource.type,
      name: resource.name,
      schemaVersion: declarationFor(resource.type).schemaVersion,
      attrs,
      dependsOn: referencesOf(resource.config),
    };
    writeState(statePath, ownedBy({ version: 1, resources: { ...state.resources, [options.address]: entry } }, statePath, options.file));
    const s = ctx.styles;
    ctx.out(`${options.address}: Import complete [id=${String(attrs.id)}]\n`);
    ctx.out(
      `\n${s.green(s.bold('Import successful!'))} ${options.address} is now in the state (${statePath}) and managed by vic.\n` +
        `Nothing in vSphere changed. Run ${vicCommand(['plan', ...where])} to see how the object differs from the spec.\n`,
    );
    return EXIT.ok;
  } finally {
    release();
  }
}

/** The addresses in the state, one a line, sorted; with `filters`, those equal to one or of a type named. */
export function stateListCommand(ctx: CliContext, where: StateLocation & { readonly filters?: readonly string[]; readonly json?: boolean }): number {
  // A --state path given by hand that holds nothing is most likely a wrong path: locateState fails.
  const { statePath, exists } = locateState('state list', where, { stateMustExist: true });
  // Nothing applied beside the spec yet is an empty list; said on stderr so scripts read none.
  if (!exists) ctx.err(`No state file at ${statePath}: nothing was applied or imported there yet.\n`);
  const state = readOwnedState(
    'state list',
    where,
    statePath,
    () => declaredAddresses(where.file),
    (path) => vicCommand(['state', 'list', '-f', where.file as string, '--state', path, ...(where.filters ?? [])]),
  );
  const filters = where.filters ?? [];
  const addresses = Object.keys(state.resources)
    .filter((a) => filters.length === 0 || filters.some((f) => a === f || state.resources[a].type === f))
    .sort();
  if (where.json) {
    const rows = addresses.map((a) => ({ address: a, type: state.resources[a].type, name: state.resources[a].name, id: idOf(state.resources[a]) }));
    ctx.out(`${JSON.stringify(rows, null, 2)}\n`);
  } else for (const a of addresses) ctx.out(`${a}\n`);
  return EXIT.ok;
}

/**
 * Forgets resources: their entries leave the state, their vSphere objects stay as they are. Every
 * address must be in the state, or nothing is removed. The state before is kept as `<state>.backup`.
 */
export async function stateRmCommand(ctx: CliContext, options: StateRmOptions): Promise<number> {
  const { statePath, exists } = locateState('state rm', options, { stateMustExist: true });
  const where = locationFlags(options);
  if (options.addresses.length === 0) {
    throw new CliError(`vic state rm needs at least one address, e.g. ${vicCommand(['state', 'rm', ...where, 'container_vm.web'])}`, EXIT.usage);
  }
  // No state beside the spec: nothing to remove, and no lock (nor .vic folder) to make for it.
  const release = exists ? await lockState(statePath, { timeoutMs: options.lockTimeoutMs, command: 'vic state rm' }) : () => undefined;
  try {
    const state = readOwnedState(
      'state rm',
      options,
      statePath,
      () => declaredAddresses(options.file),
      (path) => vicCommand(['state', 'rm', '-f', options.file as string, '--state', path, ...(options.dryRun ? ['--dry-run'] : []), ...options.addresses]),
    );
    const known = Object.keys(state.resources);
    const missing = [...new Set(options.addresses)].filter((a) => !state.resources[a]);
    if (missing.length > 0) {
      throw new CliError(
        `${missing.map((a) => `${a} is not in the state ${statePath}.${nearestAddress(a, known)}`).join('\n')}\n` +
          `Nothing was removed. In the state: ${known.join(', ') || 'nothing'} (${vicCommand(['state', 'list', ...where])}).`,
        EXIT.usage,
      );
    }
    const declared = new Set(declaredAddresses(options.file) ?? []);
    const remaining: Record<string, StateEntry> = { ...state.resources };
    const verb = options.dryRun ? 'Would remove' : 'Removed';
    for (const address of new Set(options.addresses)) {
      const entry = remaining[address];
      delete remaining[address];
      ctx.out(`${verb} ${address} (id ${idOf(entry)}) from the state; its vSphere object is left as it is and vic no longer manages it.\n`);
      if (declared.has(address)) {
        ctx.out(
          `  ${ctx.styles.yellow('Note:')} ${address} is still in the spec, so the next plan takes it for not made yet. Remove it from the spec, or bring the object back with ${vicCommand(['import', ...where, address, importIdOf(entry)])}\n`,
        );
      }
    }
    const count = new Set(options.addresses).size;
    if (options.dryRun) {
      ctx.out(`Would have removed ${count} resource(s); nothing was changed (--dry-run).\n`);
      return EXIT.ok;
    }
    // The owner stays: forgetting objects does not change whose state this is.
    const next: StackState = { ...state, resources: remaining };
    writeState(`${statePath}.backup`, state);
    writeState(statePath, next);
    ctx.out(`Successfully removed ${count} resource(s) from the state. The state before is in ${statePath}.backup.\n`);
    return EXIT.ok;
  } finally {
    release();
  }
}
