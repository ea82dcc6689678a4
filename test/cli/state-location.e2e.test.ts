/**
 * Which state a command works on, end to end (bin/vic against a real vcsim): a spec path that names
 * no file, a `--state` path that holds none, and the state of another spec in the same folder are
 * refused by every command that reads or edits a state (ls, state list, state rm, destroy), as by
 * plan and apply; a destroy with nothing to destroy says so and writes nothing; the commands vic
 * suggests run as written; `apply --json` and `destroy --json` print one shape however they end;
 * a boolean connection variable that holds no boolean is refused.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useSimulator } from '../helpers/vcsim';
import { VIC, runProcess, runVic, useVicProject, type VicRun, vchYaml } from './run-vic';

function spec(volume: { name?: string; sizeMb?: number } = {}, extra = ''): string {
  return `${vchYaml('vch-where')}volume:
  data:
    vch_id: \${virtual_container_host.demo.id}
    name: ${volume.name ?? 'data'}
    size_mb: ${volume.sizeMb ?? 64}
${extra}`;
}

const HELD = ['virtual_container_host.demo', 'volume.data'];

describe('vic: which state a command works on', () => {
  const sim = useSimulator();
  const project = useVicProject(sim, 'vic-state-location-');
  let dir: string;
  let specFile: string;
  let stateFile: string;
  let prod: string;
  let env: NodeJS.ProcessEnv;

  const vic = (...args: string[]): Promise<VicRun> => runVic(args, env, { timeoutMs: 120_000 });
  /** A command as vic printed it, run by a shell as a user pasting it would, with vic being bin/vic. */
  const paste = (command: string): Promise<VicRun> => runProcess('sh', ['-c', command.replace(/^vic /, `'${VIC}' `)], env, { timeoutMs: 120_000 });
  const stateText = (): Promise<string> => readFile(stateFile, 'utf8');

  beforeAll(async () => {
    ({ dir, specFile, stateFile, env } = project());
    prod = join(dir, 'prod.yaml');
    await writeFile(specFile, spec());
    await writeFile(prod, vchYaml('vch-where-prod', 'prod'));
  });

  it('GIVEN nothing applied yet WHEN destroyed THEN it says there is nothing to destroy, exit 0, and makes no .vic folder', async () => {
    const run = await vic('destroy', '-f', specFile, '-y');
    expect(run).toMatchObject({ code: 0, stderr: '', stdout: `Nothing to destroy: there is no state at ${stateFile} (nothing was applied there yet).\n` });
    expect(run.stdout).not.toContain('No changes');
    expect(existsSync(join(dir, '.vic'))).toBe(false);
    const json = await vic('destroy', '-f', specFile, '-y', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      plan: { format_version: '1', changes: [], summary: { add: 0, change: 0, destroy: 0 }, problems: [] },
      outcome: 'no-changes',
      summary: { add: 0, change: 0, destroy: 0 },
      state: stateFile,
    });
    expect(existsSync(join(dir, '.vic'))).toBe(false);
  });

  it('GIVEN spec.yaml applied WHEN apply --json runs again THEN the documented shape: plan, outcome no-changes, summary and state', async () => {
    const applied = await vic('apply', '-f', specFile, '-y', '--json');
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ outcome: 'applied', summary: { add: 2, change: 0, destroy: 0 }, state: stateFile });
    const again = await vic('apply', '-f', specFile, '-y', '--json');
    expect(again.code).toBe(0);
    const parsed = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['plan', 'outcome', 'summary', 'state']);
    expect(parsed).toMatchObject({ outcome: 'no-changes', summary: { add: 0, change: 0, destroy: 0 }, state: stateFile });
  });

  it.each([
    ['state rm', 'state rm', ['state', 'rm', 'virtual_container_host.demo']],
    ['state rm --dry-run', 'state rm', ['state', 'rm', '--dry-run', 'virtual_container_host.demo']],
    ['state list', 'state list', ['state', 'list']],
    ['ls', 'ls', ['ls']],
  ])(
    "GIVEN prod.yaml beside spec.yaml WHEN %s -f prod.yaml THEN refused as plan is: the state is spec.yaml's, and it keeps everything",
    async (_what, command, args) => {
      const before = await stateText();
      const run = await vic(...args, '-f', prod);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`the state file ${stateFile} belongs to the spec spec.yaml (${specFile}), which wrote it: ${HELD.join(', ')}.`);
      expect(run.stderr).toContain(`so vic ${command} stopped before using that state; nothing was read from vSphere or changed`);
      expect(await stateText()).toBe(before);
    },
  );

  it.each([
    ['state rm', ['state', 'rm', 'virtual_container_host.demo']],
    ['state list', ['state', 'list']],
    ['ls', ['ls']],
    ['plan', ['plan']],
    ['destroy', ['destroy', '-y']],
    ['import', ['import', 'volume.data', 'x']],
  ])('GIVEN a spec path that names no file WHEN %s -f it THEN exit 1: spec file not found, and the state is untouched', async (_what, args) => {
    const before = await stateText();
    const missing = join(dir, 'nonexist.yaml');
    const run = await vic(...args, '-f', missing);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(`spec file not found: ${missing} (-f)`);
    expect(await stateText()).toBe(before);
  });

  it('GIVEN a --state path that holds no file WHEN ls or destroy THEN exit 1 naming the path, and nothing is made there; apply still makes a new state', async () => {
    const typo = join(dir, 'x', 'typo', 'state.json');
    const ls = await vic('ls', '--state', typo);
    expect(ls).toMatchObject({ code: 1, stdout: '' });
    expect(ls.stderr).toContain(`No state file at ${typo} (--state). Check the path`);
    const destroy = await vic('destroy', '-f', specFile, '--state', typo, '-y');
    expect(destroy).toMatchObject({ code: 1, stdout: '' });
    expect(destroy.stderr).toContain(`No state file at ${typo} (--state). Check the path`);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    // plan and apply take a new --state path: the first apply makes it.
    const own = join(dir, '.vic', 'prod.state.json');
    expect((await vic('plan', '-f', prod, '--state', own)).code).toBe(0);
    expect((await vic('apply', '-f', prod, '--state', own, '-y')).stdout).toContain('Apply complete! Resources: 1 added');
    expect((await vic('destroy', '-f', prod, '--state', own, '-y')).stdout).toContain('Destroy complete! Resources: 1 destroyed.');
    // Emptied, the state holds nothing to destroy, and says so.
    const empty = await vic('destroy', '-f', prod, '--state', own, '-y');
    expect(empty).toMatchObject({ code: 0, stdout: `Nothing to destroy: the state ${own} holds no resources.\n` });
  });

  it('GIVEN the remedies vic prints WHEN pasted into a shell as written THEN each runs: import names state rm with -f, state rm names import back', async () => {
    const ids = Object.fromEntries(
      (JSON.parse((await vic('state', 'list', '-f', specFile, '--json')).stdout) as Array<{ address: string; id: string }>).map((e) => [e.address, e.id]),
    );
    const held = await vic('import', '-f', specFile, 'volume.data', 'whatever');
    expect(held.code).toBe(2);
    const rm = `vic state rm -f ${specFile} volume.data`;
    expect(held.stderr).toContain(`forget the one it holds first: ${rm}\n`);
    const removed = await paste(rm);
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    const back = `vic import -f ${specFile} volume.data '${ids['volume.data']}'`;
    expect(removed.stdout).toContain(`bring the object back with ${back}\n`);
    const imported = await paste(back);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const plan = `vic plan -f ${specFile}`;
    expect(imported.stdout).toContain(`Run ${plan} to see how`);
    expect(await paste(plan)).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n' });
    // A misspelt address: the list it points at runs too.
    const typo = await vic('state', 'rm', '-f', specFile, 'volume.dta');
    expect(typo.code).toBe(2);
    const list = `vic state list -f ${specFile}`;
    expect(typo.stderr).toContain(`(${list})`);
    expect(await paste(list)).toMatchObject({ code: 0, stdout: `${HELD.join('\n')}\n` });
    // The owner conflict's remedies name whole commands, with -f and --state.
    const other = await vic('state', 'rm', '-f', prod, 'volume.data');
    expect(other.stderr).toContain(`vic state rm -f ${prod} --state ${join(dir, '.vic', 'prod.state.json')} volume.data`);
    expect(other.stderr).toContain(`name the state file: vic state rm -f ${prod} --state ${stateFile} volume.data`);
  });

  it('GIVEN a volume shrink WHEN apply --json THEN exit 2 and the documented shape, outcome plan-failed with the problem; a renamed volume plans a replacement whose reason reads as docs/cli.md shows', async () => {
    await writeFile(specFile, spec({ sizeMb: 32 }));
    try {
      const run = await vic('apply', '-f', specFile, '-y', '--json');
      expect(run.code).toBe(2);
      const parsed = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(['plan', 'outcome', 'summary', 'state', 'error']);
      expect(parsed).toMatchObject({ outcome: 'plan-failed', state: stateFile, plan: { format_version: '1' } });
      expect(parsed.error).toContain('volume.data.size_mb');
    } finally {
      await writeFile(specFile, spec());
    }
    await writeFile(specFile, spec({ name: 'data2' }));
    try {
      const plan = JSON.parse((await vic('plan', '-f', specFile, '--json')).stdout) as { changes: Array<{ address: string; reasons: string[] }> };
      const reasons = plan.changes.find((c) => c.address === 'volume.data')?.reasons;
      expect(reasons).toEqual(['name: "data" → "data2" (forces replacement)']);
      const docs = await readFile(join(__dirname, '../../docs/cli.md'), 'utf8');
      const documented = /"reasons": \[("[^\n]*")\]/.exec(docs);
      expect(documented).not.toBeNull();
      expect(JSON.parse(documented![1])).toMatch(/^[a-z_]+: \S.* → \S.* \(forces replacement\)$/);
    } finally {
      await writeFile(specFile, spec());
    }
  });

  it('GIVEN vSphere refusing a create WHEN apply --json THEN exit 1 and the documented shape, outcome failed with the error', async () => {
    await writeFile(specFile, spec({}, `  more:\n    vch_id: \${virtual_container_host.demo.id}\n    name: more\n    size_mb: 64\n`));
    await sim().control.addFault({ method: 'MakeDirectory', fault: 'InvalidDatastore', message: 'refused (test)', times: -1 });
    try {
      const run = await vic('apply', '-f', specFile, '-y', '--json');
      expect(run.code).toBe(1);
      const parsed = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(['plan', 'outcome', 'summary', 'state', 'error']);
      expect(parsed).toMatchObject({ outcome: 'failed', summary: { add: 1, change: 0, destroy: 0 }, state: stateFile });
      expect(parsed.error).toContain('refused (test)');
    } finally {
      await sim().control.clearFaults();
      await writeFile(specFile, spec());
    }
  });

  it('GIVEN VSPHERE_ALLOW_UNVERIFIED_SSL=maybe WHEN any command connects THEN exit 2 naming the variable, the value and what is allowed', async () => {
    const run = await runVic(['ls', '--all'], { ...env, VSPHERE_ALLOW_UNVERIFIED_SSL: 'maybe' });
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('allow_unverified_ssl is "maybe"');
    expect(run.stderr).toContain('VSPHERE_ALLOW_UNVERIFIED_SSL');
    expect(run.stderr).toContain('write true or false (1 or 0 also work)');
    expect(run.stderr).toContain('(from the environment variable VSPHERE_ALLOW_UNVERIFIED_SSL)');
    // The words that are booleans still work.
    expect((await runVic(['ls', '--all'], { ...env, VSPHERE_ALLOW_UNVERIFIED_SSL: '0' })).code).toBe(0);
  });

  it('GIVEN the stack WHEN destroy --json THEN the documented shape, outcome applied; then the emptied state has nothing to destroy', async () => {
    const run = await vic('destroy', '-f', specFile, '-y', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'applied', summary: { add: 0, change: 0, destroy: 2 }, state: stateFile });
    const again = await vic('destroy', '-f', specFile, '-y');
    expect(again).toMatchObject({ code: 0, stdout: `Nothing to destroy: the state ${stateFile} holds no resources.\n` });
  });
});
