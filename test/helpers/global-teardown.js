// Jest globalTeardown: stops vcsim launchers that this jest run started and did not stop (a
// crashed worker, a missing afterAll). A launcher left running holds a port and, once killed
// hard, leaks its govcsim-* datastore dirs, so each one is reported.
// Only processes tagged VIC_SIM_OWNER=<this jest process's pid> are touched (see test/helpers/vcsim.ts).
const { readdirSync, readFileSync } = require('node:fs');

const OWNER_ENV = 'VIC_SIM_OWNER';

function launchersOwnedBy(owner) {
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return []; // no /proc (not Linux): nothing we can find safely
  }
  const tag = `${OWNER_ENV}=${owner}`;
  return pids.map(Number).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      if (!cmd.endsWith('vcsim-launcher')) return false;
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(tag);
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
  const leftovers = launchersOwnedBy(process.pid);
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
