// A program of a Testcontainers user (testcontainers for Node, and dockerode under it) against the
// Docker endpoint whose DOCKER_* variables it is given: each step prints one line, "step" and JSON,
// {"step", "ok", "value" | "error"}, for testcontainers.e2e.test.ts to compare. The image (argv[2])
// serves HTTP on its exposed port 80 and has the applets Testcontainers' wait for a listening port
// execs in the container (cat, awk, grep, nc).
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';

const image = process.argv[2];
let failed = false;
// Testcontainers unrefs the sockets of the log streams it follows, as a test runner keeps the
// process alive: this program keeps itself alive until it exits.
setInterval(() => undefined, 1000);

async function step(name, run) {
  try {
    console.log('step', JSON.stringify({ step: name, ok: true, value: (await run()) ?? null }));
  } catch (err) {
    failed = true;
    console.log('step', JSON.stringify({ step: name, ok: false, error: String(err?.message ?? err) }));
  }
}

async function text(stream, until) {
  let all = '';
  for await (const chunk of stream) {
    all += chunk.toString();
    if (until(all)) break;
  }
  return all;
}

let web;
await step('start', async () => {
  // The default wait: the mapped host port answers, and the port listens inside (an exec).
  web = await new GenericContainer(image)
    .withExposedPorts(80)
    .withEnvironment({ GREETING: 'hi' })
    .withLabels({ suite: 'testcontainers' })
    // Copied in before the start (a PUT archive to the created container), under /tmp.
    .withCopyContentToContainer([{ content: 'copied before the start\n', target: '/tmp/payload.txt' }])
    .withStartupTimeout(240_000)
    .start();
  return { host: web.getHost(), port: web.getMappedPort(80) > 0, name: web.getName().startsWith('/') };
});
// The network and address it read from the inspect that follows its start.
await step('network', async () => ({ names: web.getNetworkNames(), ip: /^\d+\.\d+\.\d+\.\d+$/.test(web.getIpAddress('bridge')) }));
await step('copied_before_start', async () => (await web.exec(['cat', '/tmp/payload.txt'])).stdout);
await step('copy_in_and_out', async () => {
  await web.copyContentToContainer([{ content: 'copied while running\n', target: '/tmp/running.txt' }]);
  const tar = await web.copyArchiveFromContainer('/tmp/running.txt');
  let size = 0;
  for await (const chunk of tar) size += chunk.length;
  return { read: (await web.exec(['cat', '/tmp/running.txt'])).stdout, tar: size > 0 };
});
await step('http', async () => (await (await fetch(`http://${web.getHost()}:${web.getMappedPort(80)}/`)).text()).trim());
await step('exec', async () => {
  const r = await web.exec(['sh', '-c', 'echo $GREETING; echo oops >&2; exit 3']);
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
});
await step('logs', async () => (await text(await web.logs(), (all) => all.includes('serving'))).includes('serving'));
await step('labels', async () => web.getLabels().suite);
await step('stop', async () => {
  await web.stop({ timeout: 1 });
  return true;
});

let ticker;
await step('log_wait', async () => {
  // Wait.forLogMessage follows the logs until the line comes.
  ticker = await new GenericContainer(image)
    .withCommand(['sh', '-c', 'echo warming; sleep 1; echo ready now; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done'])
    .withWaitStrategy(Wait.forLogMessage('ready now'))
    .withStartupTimeout(240_000)
    .start();
  return true;
});
await step('attach', async () => {
  // dockerode's attach without hijack: the stream is the response body.
  const client = await getContainerRuntimeClient();
  const stream = await client.container.attach(client.container.getById(ticker.getId()));
  const seen = await text(stream, (all) => (all.match(/tick \d+\n/g) ?? []).length >= 2);
  stream.destroy();
  return (seen.match(/tick \d+\n/g) ?? []).length >= 2;
});
await step('stop_ticker', async () => {
  await ticker.stop({ timeout: 1 });
  return true;
});

process.exit(failed ? 1 : 0);
