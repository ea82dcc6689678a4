/**
 * `vic import`, `vic state list`, `vic state rm` and `vic state mv`: the state file edited by hand,
 * as Terraform's `import` and `state` commands do. An import reads the object through the same
 * engine path as the Terraform provider's ImportResourceState; `state rm` forgets an object and
 * `state mv` renames its address, and neither touches vSphere.
 */
import { addressOf, importedAttrs, referencesOf, type Engine, type StackState, type StateEntry } from '../engine';
import { declarationFor, declarations, nearestName, type ConnectionSettings } from '../resources';
import { connectCli } from './connection-options';
import { CliError, EXIT, vicCommand, type CliContext } from './context';
import { importIdOf } from './inventory';
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

export interface StateMvOptions extends StateLocation {
  readonly from: string;
  readonly to: string;
  readonly dryRun?: boolean;
  readonly lockTimeoutMs?: number;
}

/** ` Did you mean container_vm.web?` when an address near `address` is among `known`. */
function nearestAddress(address: string, known: Iterable<string>): string {
  const near = nearestName(address, known);
  return near ? ` Did you mean ${near}?` : '';
}

/** A resource address as a spec writes it: a known type, a dot, a name of letters, digits, "_" and "-". */
const ADDRESS = /^([a-z_]+)\.([A-Za-z0-9_-]+)$/;

/** Why `address` (given as `what`) is no resource address, or undefined when it is one. */
function malformedAddress(address: string, what: string): string | undefined {
  const m = ADDRESS.exec(address);
  const types = declarations.map((d) => d.type);
  if (!m)
    return `${what} "${address}" is not a resource address: write <type>.<name>, such as container_vm.web (a name holds only letters, digits, "_" and "-").`;
  if (!types.includes(m[1] as never)) {
    const near = nearestName(m[1], types);
    return `${what} "${address}" has an unknown resource type "${m[1]}"${near ? ` (did you mean ${near}.${m[2]}?)` : ''}; the types are ${types.join(', ')}.`;
  }
  return undefined;
}

function idOf(entry: StateEntry): string {
  return String(entry.attrs.id ?? '');
}

/** The ID `vic import` takes for the object of `entry` (an image's is `<vch_id>/<digest>`: ResourceDeclaration.importId). */
function importIdOfEntry(entry: StateEntry): string {
  return importIdOf(entry.type, entry.attrs);
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
    const engine: Engine = await connectCli(settings);
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
          `  ${ctx.styles.yellow('Note:')} ${address} is still in the spec, so the next plan takes it for not made yet. Remove it from the spec, or bring the object back with ${vicCommand(['import', ...where, address, importIdOfEntry(entry)])}\n`,
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

/**
 * Renames a resource's address in the state (`terraform state mv`): after the spec renamed a
 * resource (container_vm.web to container_vm.web2), the object keeps its vSphere object instead of
 * being planned as a delete and a create. The entries that depend on it are renamed in their
 * `dependsOn` too. Nothing in vSphere changes. The state before is kept as `<state>.backup`.
 */
export async function stateMvCommand(ctx: CliContext, options: StateMvOptions): Promise<number> {
  const { statePath, exists } = locateState('state mv', options, { stateMustExist: true });
  const where = locationFlags(options);
  const { from, to } = options;
  const malformed = [malformedAddress(from, 'the source'), malformedAddress(to, 'the destination')].filter((m) => m !== undefined);
  if (malformed.length > 0) throw new CliError(`${malformed.join('\n')}\nNothing was moved.`, EXIT.usage);
  const fromType = from.slice(0, from.indexOf('.'));
  const toType = to.slice(0, to.indexOf('.'));
  if (fromType !== toType) {
    throw new CliError(
      `cannot move ${from} to ${to}: a state mv renames a resource and keeps its type (${fromType}), and ${to} is a ${toType}. ` +
        `Nothing was moved. Move it to ${fromType}.${to.slice(to.indexOf('.') + 1)}, or forget it (${vicCommand(['state', 'rm', ...where, from])}) and import the object you mean.`,
      EXIT.usage,
    );
  }
  if (from === to) throw new CliError(`${from} and ${to} are the same address: nothing to move.`, EXIT.usage);
  // No state beside the spec: nothing to move, and no lock (nor .vic folder) to make for it.
  const release = exists ? await lockState(statePath, { timeoutMs: options.lockTimeoutMs, command: 'vic state mv' }) : () => undefined;
  try {
    const state = readOwnedState(
      'state mv',
      options,
      statePath,
      () => declaredAddresses(options.file),
      (path) => vicCommand(['state', 'mv', '-f', options.file as string, '--state', path, ...(options.dryRun ? ['--dry-run'] : []), from, to]),
    );
    const known = Object.keys(state.resources);
    const entry = state.resources[from];
    if (!entry) {
      throw new CliError(
        `${from} is not in the state ${statePath}.${nearestAddress(from, known)}\n` +
          `Nothing was moved. In the state: ${known.join(', ') || 'nothing'} (${vicCommand(['state', 'list', ...where])}).`,
        EXIT.usage,
      );
    }
    const held = state.resources[to];
    if (held) {
      throw new CliError(
        `${to} is already in the state ${statePath} (id ${idOf(held)}): vic manages one object per address, so ${from} cannot move there. ` +
          `Nothing was moved. Forget the object ${to} holds first (${vicCommand(['state', 'rm', ...where, to])}), or move ${from} to another address.`,
        EXIT.usage,
      );
    }
    const toName = to.slice(to.indexOf('.') + 1);
    const rename = (a: string): string => (a === from ? to : a);
    const dependents: string[] = [];
    const resources: Record<string, StateEntry> = {};
    // Same order as before, the moved entry in its place; dependents name the new address.
    for (const [address, e] of Object.entries(state.resources)) {
      const moved = address === from ? { ...e, name: toName } : e;
      if (moved.dependsOn.includes(from)) dependents.push(address === from ? to : address);
      resources[rename(address)] = moved.dependsOn.includes(from) ? { ...moved, dependsOn: moved.dependsOn.map(rename) } : moved;
    }
    const verb = options.dryRun ? 'Would move' : 'Moved';
    ctx.out(`${verb} ${from} to ${to} (id ${idOf(entry)}) in the state; its vSphere object is left as it is.\n`);
    if (dependents.length > 0)
      ctx.out(`  ${options.dryRun ? 'Would rename' : 'Renamed'} ${from} to ${to} in what depends on it: ${[...dependents].sort().join(', ')}.\n`);
    const declared = declaredAddresses(options.file);
    if (declared !== undefined && !declared.includes(to)) {
      ctx.out(`  ${ctx.styles.yellow('Note:')} ${to} is not in the spec ${options.file}, so the next plan destroys its object. Declare it in the spec.\n`);
    }
    if (declared?.includes(from)) {
      ctx.out(`  ${ctx.styles.yellow('Note:')} ${from} is still in the spec ${options.file}, so the next plan creates it anew. Rename it in the spec too.\n`);
    }
    if (options.dryRun) {
      ctx.out('Nothing was changed (--dry-run).\n');
      return EXIT.ok;
    }
    // The owner stays: renaming an address does not change whose state this is.
    writeState(`${statePath}.backup`, state);
    writeState(statePath, { ...state, resources });
    ctx.out(`Successfully moved 1 resource. The state before is in ${statePath}.backup.\n`);
    return EXIT.ok;
  } finally {
    release();
  }
}
