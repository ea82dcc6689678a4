/**
 * The CLI's state file: what vic applied, beside the spec by default (`.vic/state.json`). Mode 0600
 * in a 0700 directory because it can hold registry credentials. Written atomically (temp file +
 * rename) after every resource, so an apply that dies midway loses nothing it did. A lock file
 * keeps two applies from writing the same state.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EMPTY_STATE, type StackState, type StateEntry } from '../engine';
import { declarations, migrateState, StateVersionError } from '../resources';

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

export function defaultStatePath(specFile: string): string {
  return join(dirname(resolve(specFile)), '.vic', 'state.json');
}

export function readState(path: string): StackState {
  if (!existsSync(path)) return EMPTY_STATE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StateFileError(`state file ${path} is not valid JSON (${(err as Error).message}); restore it from a backup or move it away to start over (vSphere objects it tracked are then unmanaged)`);
  }
  const state = parsed as Partial<StackState>;
  if (state.version !== 1 || typeof state.resources !== 'object' || state.resources === null) {
    throw new StateFileError(`state file ${path} has an unknown format (version ${String(state.version)}); this vic reads version 1`);
  }
  return { ...state, resources: Object.fromEntries(Object.entries(state.resources).map(([address, entry]) => [address, currentEntry(path, address, entry)])) } as StackState;
}

/** An entry written at an older schema version of its resource, migrated to the current one. */
function currentEntry(path: string, address: string, entry: StateEntry): StateEntry {
  const decl = declarations.find((d) => d.type === entry.type);
  if (!decl) {
    throw new StateFileError(`state file ${path}: ${address} has resource type "${String(entry.type)}", which this vic does not know (known: ${declarations.map((d) => d.type).join(', ')}); upgrade vic`);
  }
  if (entry.schemaVersion === decl.schemaVersion) return entry;
  try {
    return { ...entry, schemaVersion: decl.schemaVersion, attrs: migrateState(decl, entry.schemaVersion, entry.attrs) };
  } catch (err) {
    if (!(err instanceof StateVersionError)) throw err;
    throw new StateFileError(`state file ${path}: ${address}: ${err.message}${err.newer ? '; a newer vic wrote this state: upgrade vic' : ''}`);
  }
}

export function writeState(path: string, state: StackState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Takes the state lock (`state.json.lock`, holding our pid). A lock whose process is gone is taken
 * over; a live one is refused with its pid. Returns the release function.
 */
export function lockState(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new StateFileError(`state ${path} is locked by vic process ${holder}; wait for it to finish (or remove ${lock} if that process is not vic)`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new StateFileError(`could not lock state ${path}; remove ${lock} and retry`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
