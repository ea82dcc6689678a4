/**
 * Loads the provider's bundles with a V8 code cache. Terraform starts the provider three or four
 * times per command, and compiling the handshake bundle took a large share of each start (measured
 * by bench/provider-startup.ts; figures in bench/README.md).
 *
 * Node >= 22.1 has this built in (module.enableCompileCache); on Node 20 the bundle is compiled
 * through vm.Script with the cached data of an earlier start. The cache lives in the private
 * per-user directory (src/private-cache.ts): V8 executes what it holds, so a directory other users can
 * write to is never used. A cache is named after the bundle's content and the Node version, so an
 * upgrade never loads a stale one; a missing or rejected cache is written when the process exits.
 * Several caches of one bundle name are kept (the provider versions of different configurations run
 * side by side), the least recently written pruned beyond CACHES_PER_BUNDLE.
 * VIC_PROVIDER_CODE_CACHE=0 turns it off.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { privateCacheDir, writePrivateFile } from '../src/private-cache';

type ModuleInternals = typeof Module & {
  enableCompileCache?: (dir: string) => unknown;
  _nodeModulePaths(from: string): string[];
  wrap(source: string): string;
};
const Modules = Module as ModuleInternals;

export interface LoadedBundle {
  readonly exports: unknown;
  /** How the code was compiled: from the cache, from source (the cache is written at exit), or by Node's own cache. */
  readonly compiled: 'cached' | 'source' | 'node-compile-cache' | 'uncached';
}

/** A bundle's path is only known at run time. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFile = (file: string): unknown => require(file);

/**
 * A bundle of its own beside this one (`file`, e.g. engine-entry.js), loaded through the code cache
 * when it is there (the installed provider); from the source tree, where no bundle exists, the
 * module itself (`fromSource`).
 */
export function loadSideBundle<T>(file: string, fromSource: () => T): T {
  const bundled = join(__dirname, file);
  return existsSync(bundled) ? (loadBundle(bundled).exports as T) : fromSource();
}

/** `require(file)`, compiled with the per-user V8 code cache when one can be used. */
export function loadBundle(file: string, env: NodeJS.ProcessEnv = process.env): LoadedBundle {
  const dir = env.VIC_PROVIDER_CODE_CACHE === '0' ? undefined : privateCacheDir('code-cache', env);
  if (!dir) return { exports: requireFile(file), compiled: 'uncached' };
  if (typeof Modules.enableCompileCache === 'function') {
    Modules.enableCompileCache(dir);
    return { exports: requireFile(file), compiled: 'node-compile-cache' };
  }
  // Hashed as read: hashing the decoded string would encode it back to UTF-8 first.
  const bytes = readFileSync(file);
  const key = createHash('sha256').update(process.version).update(process.arch).update(bytes).digest('hex').slice(0, 16);
  const source = bytes.toString('utf8');
  const name = basename(file);
  const cacheFile = join(dir, `${name}-${key}.v8`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Modules.wrap(source), { filename: file, cachedData });
  const accepted = cachedData !== undefined && script.cachedDataRejected === false;
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Modules._nodeModulePaths(dirname(file));
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  const localRequire = ((id: string) => mod.require(id)) as NodeJS.Require;
  wrapper.call(mod.exports, mod.exports, localRequire, mod, file, dirname(file));
  mod.loaded = true;
  // Written at exit, so the cache holds every function this process compiled, not just the top level.
  if (!accepted) process.once('exit', () => writeCodeCache(dir, name, cacheFile, script));
  return { exports: mod.exports, compiled: accepted ? 'cached' : 'source' };
}

/**
 * Caches kept per bundle name: two installed provider versions (or a release and a development build)
 * used in turn would otherwise evict each other's cache at every start.
 */
export const CACHES_PER_BUNDLE = 4;
/** A temporary file this old was left by a process that died between writing and renaming it. */
const ABANDONED_TEMP_MS = 600_000;

function writeCodeCache(dir: string, name: string, cacheFile: string, script: Script): void {
  // Written first (a temporary file, then a rename): a start running at the same time reads a whole
  // cache or none, and the pruning below never counts a cache being written.
  writePrivateFile(dir, basename(cacheFile), script.createCachedData());
  pruneCodeCaches(dir, name);
}

/** Removes the caches of `name` beyond CACHES_PER_BUNDLE, oldest first, and abandoned temporary files. */
export function pruneCodeCaches(dir: string, name: string, now = Date.now()): void {
  const caches: { file: string; mtimeMs: number }[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const cache = entry.startsWith(`${name}-`) && entry.endsWith('.v8');
    const temporary = entry.startsWith(`.${name}-`);
    if (!cache && !temporary) continue;
    const file = join(dir, entry);
    try {
      const { mtimeMs } = statSync(file);
      if (cache) caches.push({ file, mtimeMs });
      else if (now - mtimeMs > ABANDONED_TEMP_MS) unlinkSync(file);
    } catch {
      // removed by a concurrent start in the meantime
    }
  }
  caches.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { file } of caches.slice(CACHES_PER_BUNDLE)) {
    try {
      unlinkSync(file);
    } catch {
      // removed by a concurrent start in the meantime; a cache left behind only takes space
    }
  }
}
