/**
 * The per-user directory where vic-iac processes leave things for the next one (the provider's
 * handshake certificate and V8 code caches, the bootstrap ISO's digest): the runtime directory
 * (tmpfs, cleared at logout) when there is one, else the user's cache directory. Whatever is read
 * back from it is trusted, so it is used only when it belongs to this user and nobody else can
 * write to it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'vic-iac');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vic-iac');
}

/** Creates `dir` (mode 0700) if needed; true when it is this user's and closed to everyone else. */
export function ensurePrivateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * `<cache root>/<name>`, created private; undefined when no directory can be trusted or made
 * (no home directory, a read-only one, one others can write to): the caller then works uncached.
 */
export function privateCacheDir(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const dir = join(cacheRoot(env), name);
    return ensurePrivateDir(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `name` in a private cache directory, readable by this user only (mode 0600); a rename
 * makes concurrent processes see all of it or none. Best effort: false when it could not be written
 * (a read-only or full disk only costs the next process the work the cache would have saved).
 */
export function writePrivateFile(dir: string, name: string, data: string | Uint8Array): boolean {
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, join(dir, name));
    return true;
  } catch {
    return false;
  }
}
