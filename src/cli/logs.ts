/**
 * `vic logs NAME`: the container's output from its VM's console file, read over datastore HTTP
 * (ranged reads while following). Only the framed output is shown, stdout to stdout and stderr
 * to stderr, as `docker logs` does; the kernel's and the tether's lines are not the container's.
 */
import type { Engine } from '../engine';
import { OutputLineReader, type Attrs, type OutputLine } from '../resources';
import { CliError, EXIT } from './context';

export interface LogsOptions {
  readonly follow: boolean;
  /** Only the last N lines of what is already there. */
  readonly tail?: number;
  readonly timestamps: boolean;
  /** The VCH, when names repeat across VCHs. */
  readonly vch?: string;
}

export interface LogsOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

// A running container's console grows line by line; half a second feels live and costs little.
const FOLLOW_POLL_MS = 500;

/** Finds the container VM by name in vSphere (by its markers), with its datacenter. */
async function findContainer(engine: Engine, name: string, vch: string | undefined): Promise<{ vm: Attrs; datacenter: string }> {
  const { hosts, containerVms } = await engine.inventory();
  const vchName = new Map(hosts.map((h) => [h.id, h.marker.name]));
  const named = containerVms.filter((vm) => vm.name === name && (vch === undefined || vchName.get(String(vm.vch_id)) === vch || vm.vch_id === vch));
  if (named.length === 0) {
    // Those of the VCH asked for, else every one with its VCH (names repeat across VCHs).
    const known = containerVms
      .filter((vm) => vch === undefined || vchName.get(String(vm.vch_id)) === vch || vm.vch_id === vch)
      .map((vm) => (vch === undefined ? `${String(vm.name)} (${vchName.get(String(vm.vch_id)) ?? String(vm.vch_id)})` : String(vm.name)))
      .sort();
    const where = vch === undefined ? '' : ` in VCH "${vch}"`;
    throw new CliError(
      `no container VM named "${name}"${where}; known: ${known.length > 0 ? known.join(', ') : 'none'} (vic ls --all lists them)`,
      EXIT.failure,
    );
  }
  if (named.length > 1) {
    const vchs = named.map((vm) => vchName.get(String(vm.vch_id)) ?? String(vm.vch_id)).join(', ');
    throw new CliError(`container VM name "${name}" is in several VCHs (${vchs}); pass --vch <name> to pick one`, EXIT.usage);
  }
  const vm = named[0];
  const host = hosts.find((h) => h.id === vm.vch_id);
  if (!host || typeof vm.vm_path !== 'string')
    throw new CliError(`container VM "${name}" has no VM directory in vSphere yet; try again once it exists`, EXIT.usage);
  return { vm, datacenter: host.marker.datacenter };
}

export async function containerLogs(engine: Engine, name: string, opts: LogsOptions, out: LogsOutput): Promise<void> {
  const { vm, datacenter } = await findContainer(engine, name, opts.vch);
  const vmPath = String(vm.vm_path);
  const reader = new OutputLineReader();
  const print = (lines: readonly OutputLine[]) => {
    for (const l of lines) {
      // The bytes as written (a line's newline included); a terminal's text, not bytes, so invalid UTF-8 shows as U+FFFD.
      const text = `${opts.timestamps ? `${l.time} ` : ''}${l.data.toString('utf8')}`;
      if (l.stream === 'stderr') out.stderr(text);
      else out.stdout(text);
    }
  };
  const first = await engine.readContainerConsole(datacenter, vmPath, 0);
  let offset = first.size;
  const existing = reader.push(first.data);
  print(opts.tail === undefined ? existing : existing.slice(Math.max(0, existing.length - opts.tail)));
  if (!opts.follow) {
    print(reader.end());
    return;
  }
  for (;;) {
    // Ask first whether it still runs, then read: output written before it stopped is not missed.
    // Read as a state that asks for no power: a run-once container (must_run false) that ended
    // would otherwise read as the "running" its state asked for, and the follow would never end.
    const [now] = await engine.read([{ type: 'container_vm', state: { ...vm, power_state: 'stopped' } }]);
    const running = now?.power_state === 'running';
    const next = await engine.readContainerConsole(datacenter, vmPath, offset);
    offset = Math.max(offset, next.size);
    print(reader.push(next.data));
    if (!running) {
      print(reader.end());
      return;
    }
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  }
}
