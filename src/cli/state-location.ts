/**
 * Which state file a command works on, and whether it may: the one place where `-f <spec.yaml>` and
 * `--state <path>` become a state path, for every command that reads or writes a state (plan,
 * apply, destroy, import, ls, state list, state rm, state mv). A spec path that names no file, a `--state`
 * path that holds none (where only an existing state makes sense) and a state that another spec
 * wrote are refused here, before anything is read from vSphere or written to disk.
 */
import { existsSync, statSync } from 'node:fs';
import { addressOf } from '../engine';
import { CliError, EXIT, vicCommand } from './context';
import { loadSpec } from './spec';
import { defaultStatePath, readState, stateOwnerConflict, type SpecState } from './state-file';

export interface StateLocation {
  /** The spec, whose state is `.vic/state.json` beside it unless `state` says otherwise. */
  readonly file?: string;
  readonly state?: string;
}

/** The flags that name this location again, as the user gave them: for the commands vic suggests. */
export function locationFlags(where: StateLocation): string[] {
  return [...(where.file !== undefined ? ['-f', where.file] : []), ...(where.state !== undefined ? ['--state', where.state] : [])];
}

/** Fails (exit 1) when `file` names no spec file: a typo must not fall back on some other state. */
export function requireSpecFile(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new CliError(`spec file not found: ${file} (-f). Check the path; nothing was read or changed.`, EXIT.failure);
  }
  if (!isFile) throw new CliError(`the spec ${file} (-f) is not a file. Give the path of the spec's YAML file; nothing was read or changed.`, EXIT.failure);
}

export interface LocateOptions {
  /**
   * True for the commands that only make sense on a state that exists (ls, destroy, state list,
   * state rm, state mv): a `--state` path that holds no file is then most likely a wrong path, and fails.
   * False for plan and apply, whose first run makes the state (import too).
   */
  readonly stateMustExist: boolean;
}

export interface LocatedState {
  readonly statePath: string;
  /** Whether the state file exists (false: nothing was applied or imported there yet). */
  readonly exists: boolean;
}

/**
 * The state path of `command` (e.g. "state rm") for `-f`/`--state`, after checking that the spec
 * file exists and, with `stateMustExist`, that a `--state` path given by hand holds a file.
 * Reads nothing and writes nothing.
 */
export function locateState(command: string, where: StateLocation, options: LocateOptions): LocatedState {
  if (where.file !== undefined) requireSpecFile(where.file);
  const statePath = where.state ?? (where.file !== undefined ? defaultStatePath(where.file) : undefined);
  if (statePath === undefined) throw new CliError(`vic ${command} needs -f <spec.yaml> or --state <path>`, EXIT.usage);
  const exists = existsSync(statePath);
  if (!exists && where.state !== undefined && options.stateMustExist) {
    throw new CliError(
      `No state file at ${where.state} (--state). Check the path${where.file === undefined ? ', or give the spec with -f to use the state beside it' : ''}; nothing was read or changed.`,
      EXIT.failure,
    );
  }
  return { statePath, exists };
}

/**
 * Reads the located state and, when `-f` picked the default state beside the spec (no `--state`),
 * refuses a state that another spec wrote (stateOwnerConflict): `declared` gives the spec's
 * addresses (undefined when it does not load). `rerun` renders the command again with another state
 * path, for the message's remedies.
 */
export function readOwnedState(
  command: string,
  where: StateLocation,
  statePath: string,
  declared: () => readonly string[] | undefined,
  rerun?: (statePath: string) => string,
): SpecState {
  const state = readState(statePath);
  if (where.file !== undefined && where.state === undefined) {
    const again = rerun ?? ((path: string) => vicCommand([...command.split(' '), '-f', where.file as string, '--state', path]));
    const conflict = stateOwnerConflict(statePath, state, where.file, declared(), command, again);
    if (conflict) throw new CliError(conflict, EXIT.usage);
  }
  return state;
}

/** The addresses a spec declares; undefined without a spec, or when it does not load (nothing to rely on). */
export function declaredAddresses(file: string | undefined): string[] | undefined {
  if (file === undefined) return undefined;
  try {
    return loadSpec(file).resources.map(addressOf);
  } catch {
    return undefined;
  }
}
