/** An engine connected to the test file's simulator (pinned thumbprint, as a user would). */
import { connectEngine, type Engine } from '../../src/engine';
import type { RunningSimulator } from '../../src/sim/simulator';
import { VimClient } from '../../src/vsphere';

export function settingsFor(sim: RunningSimulator, datacenter?: string) {
  return { url: sim.url, username: sim.username, password: sim.password, insecure: false, thumbprint: sim.thumbprint, datacenter };
}

export function connectTestEngine(sim: RunningSimulator): Promise<Engine> {
  return connectEngine(settingsFor(sim));
}

/** A separate client, for acting on vSphere "outside" the engine (drift, inspection). */
export function connectTestClient(sim: RunningSimulator): Promise<VimClient> {
  return VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, thumbprint: sim.thumbprint });
}
