/**
 * Volumes through `vic`, bin/vic as a child process against the launcher's simulator: `apply`
 * without a terminal (a CI log, a pipe) prints each phase of a volume's create as a line, and a
 * line of its own when the upload falls back to another route, saying why (the conversion
 * refused); `ls --all` lists the volumes of every VCH, as `ls -f` lists the state's.
 */
import { writeFile } from 'node:fs/promises';
import { useSimulator } from '../helpers/vcsim';
import { runVic, useVicProject, vchYaml } from './run-vic';

const SPEC = `${vchYaml('vch-vp')}volume:
  data:
    vch_id: \${virtual_container_host.demo.id}
    name: data
    size_mb: 64
`;

describe('GIVEN a spec with a volume and a server that does not convert sparse disks', () => {
  const sim = useSimulator();
  const project = useVicProject(sim, 'vic-volume-progress-');

  test('WHEN applied without a terminal THEN the fallback to the flat upload is its own line, naming the reason', async () => {
    const { specFile, env } = project();
    await writeFile(specFile, SPEC);
    await sim().control.addFault({ method: 'CopyVirtualDisk_Task', kind: 'task', fault: 'NotImplemented', times: -1 });
    const run = await runVic(['apply', '-f', specFile, '--auto-approve'], env, { timeoutMs: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^volume\.data: upload [0-9.]+ KiB \(\[LocalDS_0\] vch-vp\/volumes\/data \(sparse: \d+ of \d+ grains hold data\)\)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^volume\.data: upload 64\.0 MiB \(the server does not convert sparse disks \(NotImplemented\): uploading the whole flat extent \(64 MiB\) to \[LocalDS_0\] vch-vp\/volumes\/data instead\)$/,
      ),
    );
    expect(run.stdout).toContain('volume.data: Creation complete after');
  }, 180_000);

  test('WHEN listed with ls --all (no state) THEN the volume is there, as ls -f shows it', async () => {
    const { specFile, env } = project();
    const all = await runVic(['ls', '--all', '--json'], env);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    const volume = { kind: 'volume', name: 'data', id: '[LocalDS_0] vch-vp/volumes/data/data.vmdk', status: 'stored' };
    expect(JSON.parse(all.stdout)).toContainEqual(expect.objectContaining({ ...volume, detail: '64 MB ext4 in vch-vp' }));
    const fromState = await runVic(['ls', '-f', specFile, '--json'], env);
    expect(JSON.parse(fromState.stdout)).toContainEqual(expect.objectContaining(volume));
    const table = await runVic(['ls', '--all'], env);
    expect(table.stdout).toMatch(/^VOLUME +data +\[LocalDS_0\] vch-vp\/volumes\/data\/data\.vmdk +stored +64 MB ext4 in vch-vp$/m);
  }, 120_000);
});
