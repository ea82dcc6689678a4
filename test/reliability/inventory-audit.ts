/**
 * Compares what a state says vic owns with what vSphere holds in the VCH's pool: the figures the
 * reliability suites assert (duplicates, orphans, lost entries) after faults and kills.
 */
import type { StackState } from '../../src/engine';
import { moRef, retrievePropertiesEx, type VimClient } from '../../src/vsphere';

export interface PoolAudit {
  /** VMs in the pool. */
  readonly vms: number;
  /** Container VM names that more than one VM in the pool carries. */
  readonly duplicates: readonly string[];
  /** VMs in the pool that no state entry names (by BIOS UUID). */
  readonly orphans: readonly string[];
  /** State entries whose VM is not in the pool. */
  readonly lost: readonly string[];
  /** container_vm entries in the state. */
  readonly stateEntries: number;
}

/** Every VM of the VCH pool `poolId` against the container_vm entries of `state`. */
export async function auditPool(client: VimClient, poolId: string, state: StackState): Promise<PoolAudit> {
  // The pool's own `vm` list, as the engine's refresh reads it.
  const rows = await retrievePropertiesEx<{ name?: string; 'config.uuid'?: string }>(client, [
    {
      propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'config.uuid'] }],
      objectSet: [
        {
          obj: moRef('ResourcePool', poolId),
          skip: true,
          selectSet: [{ $type: 'TraversalSpec', name: 'poolVms', type: 'ResourcePool', path: 'vm', skip: false }],
        },
      ],
    },
  ]);
  const byName = new Map<string, number>();
  for (const row of rows) byName.set(String(row.props.name), (byName.get(String(row.props.name)) ?? 0) + 1);
  const entries = Object.entries(state.resources).filter(([, e]) => e.type === 'container_vm');
  const inState = new Set(entries.map(([, e]) => String(e.attrs.id).toLowerCase()));
  const inPool = new Set(rows.map((r) => String(r.props['config.uuid']).toLowerCase()));
  return {
    vms: rows.length,
    duplicates: [...byName].filter(([, n]) => n > 1).map(([name]) => name),
    orphans: rows.filter((r) => !inState.has(String(r.props['config.uuid']).toLowerCase())).map((r) => `${String(r.props.name)} (${r.ref.value})`),
    lost: entries.filter(([, e]) => !inPool.has(String(e.attrs.id).toLowerCase())).map(([address]) => address),
    stateEntries: entries.length,
  };
}

/** A seed from VIC_FAULT_SEED (to repeat a run) or a fresh one; the suites print it. */
export function faultSeed(): number {
  const given = process.env.VIC_FAULT_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isSafeInteger(n)) throw new Error(`VIC_FAULT_SEED=${given} is not an integer`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** A small deterministic generator (mulberry32), so the test's own random choices repeat with the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
