/**
 * Two `vic endpoint` processes on one VCH, as two users of it run them, pulling tags of one digest at
 * the same moment through the docker CLI: the image's references list is changed under the store's
 * lock, so every tag is kept, and `docker rmi` of each through either endpoint leaves the disk until
 * the last one.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../src/engine';
import { settingsFor, vsphereEnv } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { VIC, cleanEnv, runProcess, runVic, serveEndpointProcess } from '../cli/run-vic';
import { busyboxImage } from './docker-env';

const TAGS = ['t1', 't2', 't3', 't4', 't5', 't6'];

describe('two vic endpoint processes pulling tags of one digest at once', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let scratch: string;
  let engine: Engine;
  let vchId: string;
  const served: ChildProcess[] = [];
  const envs: NodeJS.ProcessEnv[] = [];
  const tag = (t: string) => `${registry().host}/shared/busybox:${t}`;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-two-endpoints-'));
    const layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [busyboxImage()]);
    for (const t of TAGS) await registry().push(layout.dir, layout.tag, `shared/busybox:${t}`);
    engine = await connectEngine(settingsFor(sim()));
    const plan = await engine.plan('virtual_container_host', null, { name: 'vch-two', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' });
    expect(plan.problems).toEqual([]);
    vchId = String(((await engine.apply(plan)) as { id: unknown }).id);
    // Each endpoint is its own user's: its own directory, certificates and process.
    for (const user of ['a', 'b']) {
      const env = cleanEnv({ ...vsphereEnv(sim()), XDG_DATA_HOME: join(scratch, user), HOME: join(scratch, user) });
      expect((await runVic(['endpoint', 'certs', '--host', '127.0.0.1'], env)).code).toBe(0);
      const { child, output } = await serveEndpointProcess('vch-two', env, ['--insecure-registry', registry().host]);
      served.push(child);
      expect(output).toMatch(/Docker endpoint for VCH "vch-two" on https:\/\/127\.0\.0\.1:\d+/);
      const shell = await runProcess('bash', ['-c', `"${VIC}" endpoint env`], env);
      const vars = Object.fromEntries([...shell.stdout.matchAll(/^export (\w+)=(?:'([^']*)'|(\S*))$/gm)].map((m) => [m[1], m[2] ?? m[3]]));
      expect(vars).toMatchObject({ DOCKER_HOST: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/), DOCKER_TLS_VERIFY: '1' });
      envs.push({ ...env, ...vars, DOCKER_CONFIG: join(scratch, user, 'docker') });
    }
  }, 180_000);

  afterAll(async () => {
    for (const child of served) child.kill('SIGKILL');
    await engine?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const docker = (user: number, args: string[]) => runProcess('docker', args, envs[user], { timeoutMs: 180_000 });
  const tagsListed = async (user: number) => {
    const r = await docker(user, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    return r.stdout.split('\n').filter(Boolean).sort();
  };

  test('GIVEN the digest pulled once WHEN both endpoints pull the other five tags at the same moment THEN both list all six tags on one image', async () => {
    const first = await docker(0, ['pull', tag('t1')]);
    expect([first.code, first.stderr]).toEqual([0, '']);
    const pulls = await Promise.all(TAGS.slice(1).map((t, i) => docker(i % 2, ['pull', tag(t)])));
    for (const p of pulls) expect([p.code, p.stderr]).toEqual([0, '']);
    const all = TAGS.map(tag).sort();
    expect(await tagsListed(0)).toEqual(all);
    expect(await tagsListed(1)).toEqual(all);
    const ids = await docker(1, ['images', '--format', '{{.ID}}']);
    expect(new Set(ids.stdout.split('\n').filter(Boolean)).size).toBe(1);
  }, 300_000);

  test('GIVEN six tags WHEN five are removed through both endpoints at once THEN the sixth keeps the image and its disk; its own rmi deletes it', async () => {
    const removals = await Promise.all(TAGS.slice(0, 5).map((t, i) => docker(i % 2, ['rmi', tag(t)])));
    for (const r of removals) expect([r.code, r.stderr]).toEqual([0, '']);
    expect(await tagsListed(0)).toEqual([tag('t6')]);
    // The disk is still there: a container VM is made from it.
    const created = await docker(1, ['create', '--name', 'from-t6', tag('t6')]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect((await docker(1, ['rm', 'from-t6'])).code).toBe(0);
    const last = await docker(0, ['rmi', tag('t6')]);
    expect([last.code, last.stderr]).toEqual([0, '']);
    expect(last.stdout).toMatch(/^Deleted: sha256:/m);
    expect(await engine.listIn('image', vchId)).toEqual([]);
  }, 300_000);
});
