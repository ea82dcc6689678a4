/**
 * The references list of a stored image is changed under a lock on the datastore that every process
 * takes: processes that add names of one digest at once (two endpoints, an endpoint and a
 * `terraform apply`) lose none of them, a dead process's lock is broken, and a name added after the
 * last holder deleted the image says so (its pull uploads the image again).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DatastoreImageStore, deleteStoredImage, imageLayout } from '../../src/images';
import { bufferSource } from '../../src/images/image-store';
import { addImageReference, readImageHolders, readImageReferences, removeImageReference, renameImageReference } from '../../src/images/image-references';
import { Inventory, VimClient, type ManagedObjectReference } from '../../src/vsphere';
import { useSimulator } from '../helpers/vcsim';

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..');
const DS = 'LocalDS_0';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const FIRST = 'registry.example/app:1';

describe('GIVEN a stored image on a simulated datastore', () => {
  const sim = useSimulator();
  let client: VimClient;
  let datacenter: { ref: ManagedObjectReference; path: string };
  const storeAt = (path: string) => new DatastoreImageStore({ client, datacenter, datastore: DS, path });
  const storeImage = async (path: string) => {
    await storeAt(path).writeFile(imageLayout(DIGEST).metadata, bufferSource(Buffer.from('{}\n')));
    return storeAt(path);
  };

  /** Runs `body` with locks stale after `ms` (VIC_IMAGE_LOCK_STALE_MS), and resets it. */
  const staleAfter = async <T>(ms: number, body: () => Promise<T>): Promise<T> => {
    process.env.VIC_IMAGE_LOCK_STALE_MS = String(ms);
    try {
      return await body();
    } finally {
      delete process.env.VIC_IMAGE_LOCK_STALE_MS;
    }
  };
  const addSecond = (store: DatastoreImageStore): Promise<string[] | undefined> => addImageReference(store, DIGEST, FIRST, 'registry.example/app:2');

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    const dc = await new Inventory(client).datacenter();
    datacenter = { ref: dc.ref, path: dc.name };
  });
  afterAll(async () => {
    await client?.close();
  });

  test('GIVEN six processes WHEN each adds its own reference of the digest at the same moment THEN the list holds all six and the first', async () => {
    const store = await storeImage('refs-many');
    const at = Date.now() + 3000;
    // Each child is its own process, with its own session: nothing shared but the datastore.
    const child = (reference: string) => `
      const { DatastoreImageStore } = require('./src/images');
      const { addImageReference } = require('./src/images/image-references');
      const { Inventory, VimClient } = require('./src/vsphere');
      (async () => {
        const client = await VimClient.connect(${JSON.stringify({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint })});
        const dc = await new Inventory(client).datacenter();
        const store = new DatastoreImageStore({ client, datacenter: { ref: dc.ref, path: dc.name }, datastore: ${JSON.stringify(DS)}, path: 'refs-many' });
        await new Promise((r) => setTimeout(r, ${at} - Date.now()));
        await addImageReference(store, ${JSON.stringify(DIGEST)}, ${JSON.stringify(FIRST)}, ${JSON.stringify(reference)});
        await client.close();
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const names = [1, 2, 3, 4, 5, 6].map((i) => `registry.example/app:tag${i}`);
    await Promise.all(names.map((n) => run(process.execPath, ['--import', 'tsx', '-e', child(n)], { cwd: REPO })));
    const held = await readImageReferences(store, DIGEST, FIRST);
    expect([...held].sort()).toEqual([FIRST, ...names].sort());
    // Every change let go of the lock.
    expect(await store.size(`${imageLayout(DIGEST).directory}.lock`)).toBeUndefined();
  }, 120_000);

  test('GIVEN a lock left by a dead process WHEN a reference is added THEN the lock is broken once stale and the reference is added', async () => {
    const store = await storeImage('refs-stale');
    expect(await store.createDirectory(`${imageLayout(DIGEST).directory}.lock`)).toBe(true);
    await staleAfter(1500, async () => {
      const began = Date.now();
      expect(await addSecond(store)).toEqual([FIRST, 'registry.example/app:2']);
      // It waited for the lock first: a live holder's change would have ended meanwhile.
      expect(Date.now() - began).toBeGreaterThanOrEqual(1500);
    });
  });

  test('GIVEN a lock left long ago WHEN a reference is added THEN the lock is broken at once, by its age on the datastore', async () => {
    const store = await storeImage('refs-old');
    const lock = `${imageLayout(DIGEST).directory}.lock`;
    expect(await store.createDirectory(lock)).toBe(true);
    await staleAfter(2000, async () => {
      await new Promise((r) => setTimeout(r, 2200));
      expect(await store.directoryAge(lock)).toBeGreaterThanOrEqual(2000);
      const began = Date.now();
      expect(await addSecond(store)).toEqual([FIRST, 'registry.example/app:2']);
      // Not another 2 s of waiting: the lock's age says it is a dead process's.
      expect(Date.now() - began).toBeLessThan(1500);
      expect(await store.directoryAge(lock)).toBeUndefined();
    });
  });

  test('GIVEN a store that does not date its directories WHEN a lock is left THEN it is broken once this waiter has seen it for the stale time', async () => {
    const real = await storeImage('refs-undated');
    // A server whose datastore browser gives no modification time (the simulator does give one).
    const store = Object.assign(Object.create(real) as DatastoreImageStore, {
      directoryAge: async (p: string) => ((await real.directoryAge(p)) === undefined ? undefined : null),
    });
    expect(await store.createDirectory(`${imageLayout(DIGEST).directory}.lock`)).toBe(true);
    await staleAfter(1500, async () => {
      const began = Date.now();
      expect(await addSecond(store)).toEqual([FIRST, 'registry.example/app:2']);
      expect(Date.now() - began).toBeGreaterThanOrEqual(1500);
    });
  });

  test('GIVEN a waiter WHEN the lock it waits on is let go and taken again by another process between its looks THEN it waits for that holder, however long it has waited', async () => {
    const store = await storeImage('refs-retaken');
    const lock = `${imageLayout(DIGEST).directory}.lock`;
    expect(await store.createDirectory(lock)).toBe(true);
    await staleAfter(2000, async () => {
      const began = Date.now();
      const added = addSecond(store).then((refs) => ({ refs, at: Date.now() - began }));
      // At 1.2 s the first holder lets go and another takes the lock at once (within one of the
      // waiter's looks); the new holder keeps it until 3 s (1.8 s: not stale), past the waiter's own
      // 2 s of waiting.
      await new Promise((r) => setTimeout(r, 1200));
      await store.deleteDirectory(lock);
      expect(await store.createDirectory(lock)).toBe(true);
      await new Promise((r) => setTimeout(r, 3000 - (Date.now() - began)));
      const released = Date.now() - began;
      await store.deleteDirectory(lock);
      const { refs, at } = await added;
      expect(refs).toEqual([FIRST, 'registry.example/app:2']);
      // Not taken from the live holder at 2 s (what a waiter that counted its own wait did).
      expect(at).toBeGreaterThanOrEqual(released);
    });
  }, 30_000);

  test('GIVEN a long list WHEN it is changed over and over THEN a reader meanwhile always finds a whole list', async () => {
    const store = await storeImage('refs-whole');
    const listPath = `${imageLayout(DIGEST).directory}/references.json`;
    const many = Array.from({ length: 2000 }, (_, i) => `registry.example/app:kept-${i}`);
    await store.writeFile(listPath, bufferSource(Buffer.from(JSON.stringify({ references: [FIRST, ...many] }))));
    let writing = true;
    const seen = { reads: 0, partial: [] as string[] };
    const reader = (async () => {
      while (writing) {
        seen.reads++;
        try {
          const list = (JSON.parse(String(await store.readFile(listPath, 1 << 20))) as { references: string[] }).references;
          if (list.length < many.length + 1) seen.partial.push(`${list.length} names`);
        } catch (err) {
          seen.partial.push((err as Error).message);
        }
      }
    })();
    try {
      for (let i = 0; i < 15; i++) {
        await addImageReference(store, DIGEST, FIRST, `registry.example/app:new-${i}`);
        await removeImageReference(store, DIGEST, FIRST, `registry.example/app:new-${i}`);
      }
    } finally {
      writing = false;
      await reader;
    }
    // Written in place (the code before), 6 reads of a run found the list cut short.
    expect(seen.partial).toEqual([]);
    expect(seen.reads).toBeGreaterThan(20);
    expect(await readImageReferences(store, DIGEST, FIRST)).toEqual([FIRST, ...many]);
  }, 60_000);

  test('GIVEN the last holder deleted the image WHEN another pull adds its reference THEN it is told the image is gone, and writes nothing', async () => {
    const store = await storeImage('refs-gone');
    expect(await removeImageReference(store, DIGEST, FIRST, FIRST, () => deleteStoredImage(store, DIGEST))).toEqual([]);
    expect(await addSecond(store)).toBeUndefined();
    expect(await store.size(`${imageLayout(DIGEST).directory}/references.json`)).toBeUndefined();
  });

  test('GIVEN two holders WHEN one is removed THEN the image stays, and whenLast runs only with the last', async () => {
    const store = await storeImage('refs-two');
    await addSecond(store);
    let deleted = 0;
    const last = async () => void deleted++;
    expect(await removeImageReference(store, DIGEST, FIRST, FIRST, last)).toEqual(['registry.example/app:2']);
    expect(deleted).toBe(0);
    expect(await removeImageReference(store, DIGEST, FIRST, 'registry.example/app:2', last)).toEqual([]);
    expect(deleted).toBe(1);
  });

  test('GIVEN names docker added and names a state holds WHEN they are added, renamed and removed THEN the marks of the state follow its names, and a list without marks marks none', async () => {
    const store = await storeImage('refs-managed');
    const listPath = `${imageLayout(DIGEST).directory}/references.json`;
    // One holder pulled by docker: no list, nothing marked.
    expect(await readImageHolders(store, DIGEST, FIRST)).toEqual({ references: [FIRST], managed: [] });
    // A state pulls the same name: one holder still, now marked.
    expect(await addImageReference(store, DIGEST, FIRST, FIRST, true)).toEqual([FIRST]);
    expect(await readImageHolders(store, DIGEST, FIRST)).toEqual({ references: [FIRST], managed: [FIRST] });
    // docker pulls it again, and tags another name: the mark stays, the new name is docker's.
    await addImageReference(store, DIGEST, FIRST, FIRST);
    await addSecond(store);
    expect(await readImageHolders(store, DIGEST, FIRST)).toEqual({ references: [FIRST, 'registry.example/app:2'], managed: [FIRST] });
    // The state renames its reference (same digest): the mark follows.
    await renameImageReference(store, DIGEST, FIRST, FIRST, 'registry.example/app@' + DIGEST);
    expect(await readImageHolders(store, DIGEST, FIRST)).toEqual({
      references: [`registry.example/app@${DIGEST}`, 'registry.example/app:2'],
      managed: [`registry.example/app@${DIGEST}`],
    });
    // The state's destroy takes its name and its mark; docker's name keeps the image.
    expect(await removeImageReference(store, DIGEST, FIRST, `registry.example/app@${DIGEST}`)).toEqual(['registry.example/app:2']);
    expect(await readImageHolders(store, DIGEST, FIRST)).toEqual({ references: ['registry.example/app:2'], managed: [] });
    // A list an older release wrote (no marks): none is the state's.
    await store.replaceFile(listPath, Buffer.from(JSON.stringify({ references: [FIRST, 'registry.example/app:2'] })));
    expect(await readImageHolders(store, DIGEST, FIRST)).toEqual({ references: [FIRST, 'registry.example/app:2'], managed: [] });
    // One that cannot be read: every name may be a state's.
    await store.replaceFile(listPath, Buffer.from('{"references": 7}'));
    expect((await readImageHolders(store, DIGEST, FIRST)).managed).toEqual([FIRST]);
  });
});
