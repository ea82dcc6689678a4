/**
 * The CLI's state file: what vic applied, beside the spec by default (`.vic/state.json`). Mode 0600
 * in a 0700 directory because it can hold registry credentials. Written atomically after every
 * resource (an exclusive temp file, fsynced, renamed over the old one, then the directory fsynced),
 * so an apply that dies midway, even with the machine, loses nothing it did.
 *
 * A lock file keeps two applies from running on one state. It appears complete or not at all
 * (written to a temp file first, then hard-linked into place, which fails if a lock exists), so
 * nobody ever reads a half-written lock. A lock whose process is dead is taken over under a claim
 * keyed to that very lock, so of several runs that find it stale, exactly one takes it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { EMPTY_STATE, type StackState, type StateEntry } from '../engine';
import { declarations, migrateState, StateVersionError } from '../resources';
import { processAlive } from './context';

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

export function defaultStatePath(specFile: string): string {
  return join(dirname(resolve(specFile)), '.vic', 'state.json');
}

/**
 * A state as the file holds it: the spec that last wrote it rides along, as its path from the state
 * file's folder (`../dev.yaml`), so a folder moved or cloned elsewhere keeps its owner. Two specs in
 * one folder share one default state file, and a plan of one against the other's state would
 * destroy everything the other declared: `stateOwnerConflict` refuses that.
 */
export interface SpecState extends StackState {
  readonly spec?: string;
}

/** `state` to be written for `specFile`, naming it as the state's owner. */
export function ownedBy(state: StackState, statePath: string, specFile: string): SpecState {
  return { ...state, spec: relative(dirname(resolve(statePath)), resolve(specFile)) };
}

/**
 * Why `specFile` must not plan against this state unasked, if it must not: the state names another
 * spec as its owner, or (a state written before owners were recorded) it holds resources and the
 * spec declares none of them (`declared`: the spec's addresses, when it could be read). Naming the
 * state file with --state says the pairing is meant (a renamed spec, one taking another's over).
 * `rerun` renders the command again with another state path, for the remedies the message gives
 * (default: `vic <command> -f <specFile> --state <path>`, unquoted).
 */
export function stateOwnerConflict(
  statePath: string,
  state: SpecState,
  specFile: string,
  declared: readonly string[] | undefined,
  command: string,
  rerun: (statePath: string) => string = (path) => `vic ${command} -f ${specFile} --state ${path}`,
): string | undefined {
  const held = Object.keys(state.resources).sort();
  if (held.length === 0) return undefined;
  const mine = relative(dirname(resolve(statePath)), resolve(specFile));
  const shown = held.length > 4 ? `${held.slice(0, 4).join(', ')} and ${held.length - 4} more` : held.join(', ');
  let whose: string;
  if (state.spec !== undefined) {
    if (state.spec === mine) return undefined;
    whose = `belongs to the spec ${basename(state.spec)} (${resolve(dirname(resolve(statePath)), state.spec)}), which wrote it`;
  } else {
    if (declared === undefined || held.some((address) => declared.includes(address))) return undefined;
    whose = `holds only resources that ${basename(specFile)} does not declare`;
  }
  const ownState = join(dirname(statePath), `${basename(specFile).replace(/\.ya?ml$/i, '')}.state.json`);
  // A plan against it would destroy them; the commands that only read or edit the state would show
  // or forget another stack's objects as this spec's.
  const planning = ['plan', 'apply', 'destroy', 'import', 'plan -destroy'].includes(command);
  const risk = planning
    ? `Planned against it, ${basename(specFile)} would destroy them all, so vic ${command} stopped before reading vSphere; nothing was changed.`
    : `They are not ${basename(specFile)}'s, so vic ${command} stopped before using that state; nothing was read from vSphere or changed.`;
  return (
    `the state file ${statePath} ${whose}: ${shown}. ${risk} ` +
    `Two specs in one folder share this default state file: give ${basename(specFile)} a state of its own (${rerun(ownState)}, the same --state on every command), or move it to a folder of its own. ` +
    `If ${basename(specFile)} is meant to take these resources over (the spec was renamed), name the state file: ${rerun(statePath)}`
  );
}

export function readState(path: string): SpecState {
  if (!existsSync(path)) return EMPTY_STATE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StateFileError(
      `state file ${path} is not valid JSON (${(err as Error).message}); restore it from a backup or move it away to start over (vSphere objects it tracked are then unmanaged)`,
    );
  }
  const state = parsed as Partial<SpecState>;
  if (state.version !== 1 || typeof state.resources !== 'object' || state.resources === null) {
    throw new StateFileError(`state file ${path} has an unknown format (version ${String(state.version)}); this vic reads version 1`);
  }
  return {
    ...state,
    spec: typeof state.spec === 'string' ? state.spec : undefined,
    resources: Object.fromEntries(Object.entries(state.resources).map(([address, entry]) => [address, currentEntry(path, address, entry)])),
  } as StackState;
}

/** An entry written at an older schema version of its resource, migrated to the current one. */
function currentEntry(path: string, address: string, entry: StateEntry): StateEntry {
  const decl = declarations.find((d) => d.type === entry.type);
  if (!decl) {
    throw new StateFileError(
      `state file ${path}: ${address} has resource type "${String(entry.type)}", which this vic does not know (known: ${declarations.map((d) => d.type).join(', ')}); upgrade vic`,
    );
  }
  if (entry.schemaVersion === decl.schemaVersion) return entry;
  try {
    return { ...entry, schemaVersion: decl.schemaVersion, attrs: migrateState(decl, entry.schemaVersion, entry.attrs) };
  } catch (err) {
    if (!(err instanceof StateVersionError)) throw err;
    throw new StateFileError(`state file ${path}: ${address}: ${err.message}${err.newer ? '; a newer vic wrote this state: upgrade vic' : ''}`);
  }
}

/** Creates `path` (it must not exist), writes `text` and fsyncs it before closing. */
function writeNewFileSynced(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename in `dir` durable: without it a crash can bring back the old directory entry. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse to open or fsync a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A temp file name that no other writer (another process, or this one earlier) can hold. */
function tempNameFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

export function writeState(path: string, state: StackState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tempNameFor(path);
  try {
    writeNewFileSynced(tmp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dirname(path));
}

/** What a lock file holds: who took it, where and when. */
interface LockRecord {
  readonly pid: number;
  readonly host: string;
  /** Unique per acquisition: a takeover claim names the one lock it replaces. */
  readonly nonce: string;
  readonly since?: string;
  readonly command?: string;
}

export interface LockOptions {
  /** How long to wait for a live holder to finish; default 0 (fail at once, naming the holder). */
  readonly timeoutMs?: number;
  /** How often to look again while waiting. */
  readonly pollMs?: number;
  /** What this run does, shown to a run that finds the lock taken (e.g. `vic apply`). */
  readonly command?: string;
}

type Attempt = { readonly held: true } | { readonly held: false; readonly holder: LockRecord; readonly detail?: string };

/**
 * Takes the state lock (`state.json.lock`). A live holder makes this wait up to `timeoutMs`, then
 * fail with the holder's pid, host and command; a dead one's lock is taken over. Returns the
 * release function, which removes the lock only while it is still this run's.
 */
export async function lockState(path: string, options: LockOptions = {}): Promise<() => void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = `${path}.lock`;
  const mine: LockRecord = {
    pid: process.pid,
    host: hostname(),
    nonce: randomBytes(8).toString('hex'),
    since: new Date().toISOString(),
    command: options.command,
  };
  const waitUntil = Date.now() + (options.timeoutMs ?? 0);
  for (;;) {
    const attempt = tryLock(lock, mine);
    if (attempt.held) {
      removeLeftovers(path);
      return () => releaseLock(lock, mine);
    }
    if (Date.now() >= waitUntil) throw lockedError(path, lock, attempt.holder, attempt.detail, options.timeoutMs ?? 0);
    await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 250, Math.max(1, waitUntil - Date.now()))));
  }
}

function tryLock(lock: string, mine: LockRecord): Attempt {
  const staged = `${lock}.${process.pid}.${mine.nonce}.tmp`;
  writeNewFileSynced(staged, JSON.stringify(mine));
  try {
    for (;;) {
      try {
        linkSync(staged, lock);
        fsyncDirectory(dirname(lock));
        return { held: true };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLockRecord(lock);
      if (!holder) continue; // released between our link and our read: try again
      if (holderAlive(holder)) return { held: false, holder };
      // Stale. Only the run that creates this lock's claim may replace it.
      const claim = `${lock}.takeover-${holder.nonce}`;
      try {
        writeNewFileSynced(claim, JSON.stringify(mine));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const claimant = readLockRecord(claim);
        if (claimant && !holderAlive(claimant)) {
          return {
            held: false,
            holder,
            detail: `a takeover of its stale lock by process ${claimant.pid} was interrupted; remove ${lock} and ${claim}, then run again`,
          };
        }
        return { held: false, holder: claimant ?? holder, detail: 'that run is taking over a stale lock' };
      }
      try {
        // Under the claim nobody else can replace this lock; check it is still the one judged stale.
        if (readLockRecord(lock)?.nonce !== holder.nonce) continue;
        // rename replaces atomically: the lock is never absent, so no plain link slips in between.
        renameSync(staged, lock);
        fsyncDirectory(dirname(lock));
        return { held: true };
      } finally {
        rmSync(claim, { force: true });
      }
    }
  } finally {
    rmSync(staged, { force: true });
  }
}

/** The lock's record; undefined when there is no lock. Older vic wrote only its pid. */
function readLockRecord(file: string): LockRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord> | number;
    if (typeof parsed === 'number') return { pid: parsed, host: hostname(), nonce: `pid-${parsed}` };
    if (typeof parsed.pid === 'number' && typeof parsed.nonce === 'string') return { host: hostname(), ...parsed } as LockRecord;
  } catch {
    // falls through: unreadable
  }
  // An unreadable lock (an older vic killed while writing it) holds no live process we can name.
  return { pid: 0, host: hostname(), nonce: `unreadable-${Buffer.from(text).toString('hex').slice(0, 32)}` };
}

function holderAlive(holder: LockRecord): boolean {
  // A lock from another machine (a shared directory) cannot be checked from here: assume it is live.
  if (holder.host !== hostname()) return true;
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  if (holder.pid === process.pid) return true;
  return processAlive(holder.pid);
}

function releaseLock(lock: string, mine: LockRecord): void {
  if (readLockRecord(lock)?.nonce === mine.nonce) rmSync(lock, { force: true });
}

/** Temp files of writers that died mid-write (only ever looked at while holding the lock). */
function removeLeftovers(path: string): void {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.`) || !name.endsWith('.tmp')) continue;
    const pid = Number(/\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1]);
    if (pid > 0 && !holderAlive({ pid, host: hostname(), nonce: '' })) rmSync(join(dir, name), { force: true });
  }
}

function lockedError(path: string, lock: string, holder: LockRecord, detail: string | undefined, waitedMs: number): StateFileError {
  const who = `vic process ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}${holder.command ? ` (${holder.command}` : ''}${holder.command && holder.since ? `, since ${holder.since})` : holder.command ? ')' : ''}`;
  const waited = waitedMs > 0 ? ` after waiting ${Math.round(waitedMs / 1000)} s` : '';
  const what = detail
    ? `; ${detail}`
    : `; wait for it to finish${waitedMs > 0 ? '' : ', or pass --lock-timeout to wait for it (e.g. --lock-timeout 5m)'}. Remove ${lock} only if that process is not vic`;
  return new StateFileError(`state ${path} is locked by ${who}${waited}${what}`);
}
