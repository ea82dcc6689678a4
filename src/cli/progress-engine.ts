/**
 * An Engine that tags the progress of every apply with the resource it belongs to. The engine's
 * own events name a resource by its `name` attribute, which an image has not; the CLI needs the
 * state address (`image.busybox`) to give each pull and upload its own bar.
 */
import type { StackResource } from '../engine/stack';
import type { ApplyOptions, Engine, PlannedChange, ProgressEvent } from '../engine/types';
import type { Attrs, ResourceType } from '../resources';

export type ProgressSink = (address: string, event: ProgressEvent) => void;

/** Finds the address of a change from the inputs that identify it (name, or an image's reference). */
export function addressFinder(resources: readonly StackResource[], priorAddresses: ReadonlyMap<string, string>): (change: PlannedChange) => string {
  const identity = (type: ResourceType, attrs: Attrs | null): string => `${type}|${String(attrs?.name ?? attrs?.reference ?? '')}`;
  const byIdentity = new Map<string, string>();
  for (const r of resources) byIdentity.set(identity(r.type, r.config), `${r.type}.${r.name}`);
  return (change) => {
    const attrs = change.planned ?? change.prior;
    return (
      (change.prior?.id !== undefined && priorAddresses.get(`${change.type}|${String(change.prior.id)}`)) ||
      byIdentity.get(identity(change.type, attrs)) ||
      `${change.type}.${String(attrs?.name ?? attrs?.reference ?? '?')}`
    );
  };
}

export class ProgressTaggingEngine implements Engine {
  constructor(
    private readonly inner: Engine,
    private readonly addressOf: (change: PlannedChange) => string,
    private readonly sink: ProgressSink,
  ) {}

  validate: Engine['validate'] = (type, config) => this.inner.validate(type, config);
  plan: Engine['plan'] = (type, prior, config) => this.inner.plan(type, prior, config);
  read: Engine['read'] = (requests) => this.inner.read(requests);
  importState: Engine['importState'] = (type, id) => this.inner.importState(type, id);
  readDataSource: Engine['readDataSource'] = (type, config) => this.inner.readDataSource(type, config);
  close: Engine['close'] = () => this.inner.close();

  apply(change: PlannedChange, opts: ApplyOptions = {}): Promise<Attrs | null> {
    const address = this.addressOf(change);
    return this.inner.apply(change, { ...opts, onProgress: (e) => this.sink(address, e) });
  }
}
