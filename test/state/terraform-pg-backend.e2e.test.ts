/**
 * Team state with Terraform's `pg` backend on a real PostgreSQL server: examples/terraform-pg in two
 * working directories (two colleagues, or a colleague and CI) that share one state.
 *   - what one applies, the other's plan already knows;
 *   - two applies at once serialize on the backend's lock: without a lock timeout the second fails
 *     naming the lock, with one it waits, and then it sees the first one's result and creates nothing twice.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { REPO, workspace, type Workspace } from '../provider/terraform-cli';
import { useTerraformTestbed } from '../provider/testbed';
import { usePostgres } from './postgres';

const PASSWORD = 'Pg-backend-e2e-S3cret!';
const DATABASE = 'terraform_backend';
const SCHEMA = 'vic_team_demo';

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('Terraform state in PostgreSQL (pg backend), shared by two working directories', () => {
  const bed = useTerraformTestbed({ username: 'pg-e2e', password: PASSWORD, repository: 'team/app', program: 'httpd' });
  const pg = usePostgres();
  let alice: Workspace;
  let bob: Workspace;
  let backendEnv: NodeJS.ProcessEnv;

  /** Runs terraform in `ws` with the backend's connection string; the database password never shows. */
  async function tf(ws: Workspace, args: string[], allow: number[] = []) {
    const r = await bed.terraform(ws, args, { extraEnv: backendEnv, allow });
    expect(r.stdout + r.stderr).not.toContain(pg().password);
    return r;
  }

  const containerVmsNamed = async (name: string) =>
    (
      await retrieveFromContainer<{ name: string }>(bed.outside(), {
        container: bed.outside().serviceContent.rootFolder,
        select: [{ type: 'VirtualMachine', paths: ['name'] }],
      })
    ).filter((vm) => vm.props.name === name);

  beforeAll(async () => {
    await pg().createDatabase(DATABASE);
    backendEnv = { PG_CONN_STR: pg().url(DATABASE) };
    alice = workspace('mirror');
    bob = workspace('mirror');
    for (const ws of [alice, bob]) cpSync(join(REPO, 'examples/terraform-pg/main.tf'), join(ws.dir, 'main.tf'));
  }, 120_000);

  // The simulator is this file's own and goes with it, so nothing is destroyed at the end.
  afterEach(async () => {
    await bed.sim().control.setDelay({ methodDelay: {} });
  });

  test('GIVEN alice applied WHEN bob, in another directory, plans THEN he sees her resources in the shared state and plans no change', async () => {
    await tf(alice, ['init', '-input=false']);
    const applied = await tf(alice, ['apply', '-auto-approve', '-input=false']);
    expect(applied.stdout).toMatch(/Apply complete! Resources: 3 added, 0 changed, 0 destroyed\./);
    // The state is a row of the backend's table, not a file.
    expect(await pg().query(DATABASE, `SELECT name FROM ${SCHEMA}.states`)).toEqual(['default']);

    const init = await tf(bob, ['init', '-input=false']);
    expect(init.stdout).toContain('Successfully configured the backend "pg"!');
    const plan = await tf(bob, ['plan', '-detailed-exitcode', '-input=false'], [0]);
    expect(plan.stdout).toContain('No changes.');
    const listed = await tf(bob, ['state', 'list']);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(['vic_container_vm.web[0]', 'vic_image.app', 'vic_virtual_container_host.team']);
  }, 300_000);

  test('GIVEN alice applies a change WHEN bob applies the same change at the same time THEN the lock serializes them and bob creates nothing twice', async () => {
    // A slow vCenter keeps alice's apply, and so her lock, open long enough to watch.
    await bed.sim().control.setDelay({ methodDelay: { CreateVM_Task: 6000 } });
    const advisoryLocks = async () => Number((await pg().query(DATABASE, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"))[0]);
    expect(await advisoryLocks()).toBe(0);

    const aliceApply = tf(alice, ['apply', '-auto-approve', '-input=false', '-var', 'replicas=2']).then((r) => ({ ...r, at: Date.now() }));
    await until('alice to hold the state lock', async () => (await advisoryLocks()) > 0, 60_000);

    // WHEN bob does not wait THEN his apply stops at the lock, before touching anything
    const refused = await tf(bob, ['apply', '-auto-approve', '-input=false', '-var', 'replicas=2', '-lock-timeout=0s'], [1]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Error acquiring the state lock');

    // WHEN bob waits for the lock THEN his apply runs after alice's and sees her web-2
    const bobApply = tf(bob, ['apply', '-auto-approve', '-input=false', '-var', 'replicas=2', '-lock-timeout=5m']).then((r) => ({ ...r, at: Date.now() }));
    const [a, b] = await Promise.all([aliceApply, bobApply]);
    expect(a.stdout).toMatch(/Apply complete! Resources: 1 added, 0 changed, 0 destroyed\./);
    expect(b.stdout).toMatch(/No changes\.|Apply complete! Resources: 0 added, 0 changed, 0 destroyed\./);
    expect(b.at).toBeGreaterThanOrEqual(a.at);
    expect(await containerVmsNamed('web-2')).toHaveLength(1);
    expect(await advisoryLocks()).toBe(0);

    const after = await tf(bob, ['state', 'list']);
    expect(
      after.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('vic_container_vm.web[')),
    ).toEqual(['vic_container_vm.web[0]', 'vic_container_vm.web[1]']);
  }, 420_000);
});
