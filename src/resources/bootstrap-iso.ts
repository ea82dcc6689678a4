/**
 * The bootstrap ISO container VMs boot (built by scripts/build-bootstrap-iso.sh). A VCH that names
 * no `bootstrap_iso` gets the project's ISO uploaded to `<image_store_path>/bootstrap.iso`,
 * content-addressed: a `bootstrap.iso.sha256` written after the ISO records what is there, so an
 * unchanged ISO is never uploaded again and an interrupted upload is redone.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { downloadDatastoreFile, statDatastoreFile, uploadDatastoreFile, type DatastoreFile, type VimClient } from '../vsphere';
import { datastorePath } from '../vsphere/file-manager';
import { privateCacheDir, writePrivateFile } from '../private-cache';
import type { VchMarker } from './snapshot';

export const BOOTSTRAP_ISO_ENV = 'VIC_BOOTSTRAP_ISO';
const ISO_NAME = 'bootstrap.iso';

/**
 * The local ISO: $VIC_BOOTSTRAP_ISO; else the one `npm run setup` builds into $VIC_CACHE/bootstrap
 * when the cache was moved there; else one beside the installed provider bundle; else the one in
 * .cache/bootstrap of the package this module belongs to.
 */
export function localBootstrapIso(env: NodeJS.ProcessEnv = process.env, from: string = __dirname): string | undefined {
  if (env[BOOTSTRAP_ISO_ENV]) return env[BOOTSTRAP_ISO_ENV];
  const cached = env.VIC_CACHE ? join(env.VIC_CACHE, 'bootstrap', ISO_NAME) : undefined;
  if (cached && existsSync(cached)) return cached;
  let dir = from;
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, ISO_NAME), join(dir, '.cache', 'bootstrap', ISO_NAME)]) if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

const digests = new Map<string, Promise<string>>();

/**
 * The sha256 of a local ISO, hashed once per content: remembered by path, size, times and inode in
 * this process and, across processes (Terraform starts the provider 3 or 4 times per command), in
 * the private per-user cache directory, since hashing the whole ISO at every VCH plan and apply
 * showed in their times. A copy or rebuild of the ISO changes its inode or ctime, so it is hashed again.
 */
export function localIsoDigest(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const st = statSync(path);
  const key = createHash('sha256').update(`${path}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}`).digest('hex').slice(0, 32);
  let digest = digests.get(key);
  if (!digest) {
    digest = rememberedDigest(path, key, env);
    digests.set(key, digest);
    digest.catch(() => digests.delete(key));
  }
  return digest;
}

async function rememberedDigest(path: string, key: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = privateCacheDir('iso-digests', env);
  if (dir) {
    try {
      const remembered = readFileSync(join(dir, key), 'utf8').trim();
      if (/^[0-9a-f]{64}$/.test(remembered)) return remembered;
    } catch {
      // not hashed yet
    }
  }
  const digest = await sha256File(path);
  if (dir) writePrivateFile(dir, key, `${digest}\n`);
  return digest;
}

type StoreLocation = Pick<VchMarker, 'datacenter' | 'datastore' | 'image_store_path'>;

function file(store: StoreLocation, name: string): DatastoreFile {
  return { datacenter: store.datacenter, datastore: store.datastore, path: `${store.image_store_path}/${name}` };
}

export function bootstrapIsoPath(store: StoreLocation): string {
  return datastorePath(store.datastore, `${store.image_store_path}/${ISO_NAME}`);
}

/** The sha256 the store records for its ISO, or undefined when there is none (or it is incomplete). */
export async function storedIsoDigest(client: VimClient, store: StoreLocation): Promise<string | undefined> {
  const [sidecar, iso] = await Promise.all([statDatastoreFile(client, file(store, `${ISO_NAME}.sha256`)), statDatastoreFile(client, file(store, ISO_NAME))]);
  if (!sidecar || !iso) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await downloadDatastoreFile(client, file(store, `${ISO_NAME}.sha256`))) chunks.push(c as Buffer);
  const [digest, size] = Buffer.concat(chunks).toString('utf8').trim().split(/\s+/);
  return Number(size) === iso.size ? digest : undefined;
}

/**
 * Uploads the local ISO unless the store already holds the same content. Returns the datastore path
 * and the digest. `onBytes` reports upload progress.
 */
export async function ensureBootstrapIso(
  client: VimClient,
  store: StoreLocation,
  localIso: string,
  onProgress?: (current: number, total: number) => void,
): Promise<{ path: string; sha256: string; uploaded: boolean }> {
  const sha256 = await localIsoDigest(localIso);
  if ((await storedIsoDigest(client, store)) === sha256) return { path: bootstrapIsoPath(store), sha256, uploaded: false };
  const size = statSync(localIso).size;
  // A function, not a stream: a transfer whose reply was lost is sent again from the start.
  const open = () => {
    let sent = 0;
    const source = createReadStream(localIso);
    const counting = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sent += chunk.length;
        onProgress?.(sent, size);
        done(null, chunk);
      },
    });
    counting.on('close', () => source.destroy());
    return source.pipe(counting);
  };
  await uploadDatastoreFile(client, file(store, ISO_NAME), open, { size });
  // Written last: its presence with the right size means the ISO above is complete.
  await uploadDatastoreFile(client, file(store, `${ISO_NAME}.sha256`), `${sha256} ${size}\n`);
  return { path: bootstrapIsoPath(store), sha256, uploaded: true };
}
