// Jest globalTeardown: stops vcsim launchers that tests started and did not stop (a crashed
// worker, a missing afterAll). A launcher left running holds a port and, once killed hard, leaks
// its govcsim-* datastore dirs, so each one is reported.
// startSimulator tags each launcher with VIC_SIM_OWNER=<pid of the process that started it>. By
// now jest's workers have exited, so a leftover is a tagged launcher whose owner is this process
// (in-band runs) or is gone (worker runs). A live owner's launcher, e.g. another jest run's, is
// left alone.
const { readdirSync, readFileSync } = require('node:fs');

const OWNER_ENV = 'VIC_SIM_OWNER';

function orphanedLaunchers() {
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return []; // no /proc (not Linux): nothing we can find safely
  }
  return pids.map(Number).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      if (!cmd.endsWith('vcsim-launcher')) return false;
      const tag = readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .find((entry) => entry.startsWith(`${OWNER_ENV}=`));
      if (!tag) return false; // not started by startSimulator
      const owner = Number(tag.slice(OWNER_ENV.length + 1));
      if (!Number.isInteger(owner) || owner <= 0) return false;
      return owner === process.pid || !alive(owner);
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

module.exports = async function stopLeftoverSimulators() {
  const leftovers = orphanedLaunchers();
  if (leftovers.length === 0) return;
  console.warn(`[global-teardown] stopping ${leftovers.length} vcsim launcher(s) a test left running: pid ${leftovers.join(', ')}`);
  for (const pid of leftovers) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (leftovers.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of leftovers.filter(alive)) {
    console.warn(`[global-teardown] vcsim launcher pid ${pid} ignored SIGTERM; killed (its govcsim-* dirs may remain)`);
    process.kill(pid, 'SIGKILL');
  }
};
