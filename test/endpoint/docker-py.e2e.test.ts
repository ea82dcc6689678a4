/**
 * docker-py 7.1 itself (not requests shaped like its own: sdk-clients.test.ts has those) against the
 * endpoint, from the virtualenv scripts/peers/67-docker-py.sh makes: docker-py-client.py pulls,
 * runs, execs, copies files in and out, reads stats once, removes a running container with
 * force=True, and runs a container on a volume and a docker network. docker-py sends Python's
 * `True`/`False` as query values (`force=True`, `stream=False`), which the endpoint reads as dockerd
 * does; before, `stats(stream=False)` never ended and `remove(force=True)` did not force.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess } from '../cli/run-vic';
import { REPO } from '../provider/terraform-cli';
import { useDockerBed } from './docker-env';

const PYTHON = join(REPO, '.cache/docker-py-venv/bin/python');

interface Step {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}

describe('docker-py against the endpoint', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, vchName: 'vch-dockerpy' });

  test('GIVEN docker-py from the environment vic endpoint env prints WHEN a program uses containers, exec, archives, stats, volumes and networks THEN each step does what dockerd does', async () => {
    if (!existsSync(PYTHON)) throw new Error(`docker-py's virtualenv is missing (${PYTHON}): run "npm run setup" (scripts/peers/67-docker-py.sh)`);
    // requests verifies against these bundles instead of the endpoint's CA when they are set (docs/endpoint.md).
    const env: NodeJS.ProcessEnv = { ...process.env, ...bed().env };
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
    const run = await runProcess(PYTHON, [join(__dirname, 'docker-py-client.py'), bed().image], env, { timeoutMs: 600_000 });
    expect([run.code, run.stderr]).toEqual([0, '']);
    const steps = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Step)
        .map((s) => [s.step, s.ok ? s.value : `failed: ${s.error}`]),
    );
    expect(steps).toEqual({
      ping: true,
      pull: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      run: 'hello from docker-py\n',
      running: 'running',
      labels: ['py-box'],
      exec_run: [3, 'hi\n'],
      put_archive: true,
      get_archive: { stat_name: 'note.txt', content: 'from python\n' },
      put_archive_gzip: true,
      put_archive_bz2: true,
      get_archive_compressed: ['from gzip\n', 'from bzip2\n'],
      stats: ['cpu_stats', 'memory_stats', 'read'],
      remove_force: null,
      gone: [],
      volume_create: expect.objectContaining({ Name: 'py-vol', Driver: 'vsphere', Labels: { a: 'b' }, Options: { size: '16MB' } }),
      network_create: 'py-net',
      run_on_both: 'saved\n',
      network_remove: null,
      volume_remove: null,
      volumes_left: [],
    });
  }, 660_000);
});
