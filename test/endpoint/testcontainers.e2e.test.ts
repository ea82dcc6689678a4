/**
 * Testcontainers for Node 11 (and dockerode 4 under it), the test library, against the endpoint:
 * testcontainers-client.mjs starts a container with an exposed port and waits until it listens
 * (the mapped host port, then an exec inside), reaches it over HTTP, execs in it, reads its logs,
 * waits for a log line, attaches to a running container and stops both. dockerode's exec start and
 * attach do not upgrade the connection: dockerd answers them with the stream as the response body,
 * which the endpoint refused before (400), as it refused `logs?tail=-1`. Testcontainers' reaper
 * (Ryuk) mounts the docker socket of a host, which a VCH has not: it is turned off, as the docs say.
 */
import { join } from 'node:path';
import { runProcess } from '../cli/run-vic';
import { busyboxImage, useDockerBed } from './docker-env';

interface Step {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** busybox serving HTTP on its exposed port 80, with the applets Testcontainers' port wait execs. */
function webImage() {
  const base = busyboxImage();
  const applets = ['httpd', 'mkdir', 'cat', 'awk', 'grep', 'nc', 'sleep'];
  const script = 'mkdir -p /tmp/www && echo "served to testcontainers" > /tmp/www/index.html && echo serving && exec httpd -f -p 80 -h /tmp/www';
  return {
    layers: [...base.layers, { entries: applets.map((applet) => ({ type: 'symlink' as const, path: `bin/${applet}`, target: 'busybox' })) }],
    config: { ...base.config, Cmd: ['sh', '-c', script], ExposedPorts: { '80/tcp': {} } },
  };
}

describe('Testcontainers against the endpoint', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, vchName: 'vch-testcontainers' });

  test('GIVEN testcontainers with the environment vic endpoint env prints WHEN a program starts containers (files copied in before the start), reads their address, waits for a port and a log line, execs, copies, reads logs and attaches THEN each step does what it does on dockerd', async () => {
    const image = await bed().pushImage(webImage(), 'vic-test/tc-web:1');
    // Its debug log goes with the steps' lines, for a failure to show where the program stopped.
    const env: NodeJS.ProcessEnv = { ...process.env, ...bed().env, TESTCONTAINERS_RYUK_DISABLED: 'true', DEBUG: 'testcontainers*' };
    const run = await runProcess(process.execPath, [join(__dirname, 'testcontainers-client.mjs'), image], env, { timeoutMs: 600_000 });
    const steps = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('step {'))
        .map((line) => JSON.parse(line.slice('step '.length)) as Step)
        .map((s) => [s.step, s.ok ? s.value : `failed: ${s.error}`]),
    );
    if (run.code !== 0) console.log(`exit ${run.code}; the program's last output:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`);
    expect(steps).toEqual({
      start: { host: '127.0.0.1', port: true, name: true },
      network: { names: ['bridge'], ip: true },
      copied_before_start: 'copied before the start\n',
      copy_in_and_out: { read: 'copied while running\n', tar: true },
      http: 'served to testcontainers',
      exec: { exitCode: 3, stdout: 'hi\n', stderr: 'oops\n' },
      logs: true,
      labels: 'testcontainers',
      stop: true,
      log_wait: true,
      attach: true,
      stop_ticker: true,
    });
    expect(run.code).toBe(0);
  }, 660_000);
});
