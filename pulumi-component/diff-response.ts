/**
 * The changed properties of a Diff, carried to Pulumi's engine. The engine matches the
 * `replaceOnChanges` resource option against the DiffResponse's `diffs` (the changed top-level
 * properties) and shows its `detailedDiff` in `pulumi preview --diff`. Both of @pulumi/pulumi's Node
 * provider servers, the dynamic-provider host (TypeScript programs) and provider/server.js (the
 * native plugin, for Python and YAML), copy only `changes`, `replaces` and `deleteBeforeReplace` of
 * a DiffResult into the response, so without this, replaceOnChanges matched nothing.
 *
 * Both servers, right after the provider's diff resolves, read the result's `changes` and then
 * call `setChanges` on the response, with nothing in between. The result `withPropertyDiffs`
 * returns hands its property diffs over when `changes` is read, and the `setChanges` that
 * `forwardPropertyDiffs` installs writes them into that very response. A server that sets `diffs`
 * itself (a later @pulumi/pulumi) finds them already there and overwrites them with the same.
 */
import { dirname } from 'node:path';
import type * as dynamic from '@pulumi/pulumi/dynamic';

/** A property's change, in the protocol's words (pulumirpc.PropertyDiff.Kind). */
export type PropertyDiffKind = 'ADD' | 'ADD_REPLACE' | 'DELETE' | 'DELETE_REPLACE' | 'UPDATE' | 'UPDATE_REPLACE';

export interface PropertyDiff {
  readonly kind: PropertyDiffKind;
  /** True when the change is between the old and new inputs; false: between the old outputs (the state) and the new inputs. */
  readonly inputDiff: boolean;
}

/** What the DiffResponse carries beyond a DiffResult: changed top-level keys and the diff by property path. */
export interface PropertyDiffs {
  readonly diffs: readonly string[];
  readonly detailedDiff: Readonly<Record<string, PropertyDiff>>;
}

/** The property diffs of the result whose `changes` a server read last, for the `setChanges` it calls next. */
let handedOver: PropertyDiffs | undefined;

/** A DiffResult whose property diffs reach the response once forwardPropertyDiffs is installed. */
export function withPropertyDiffs(result: dynamic.DiffResult, diffs: PropertyDiffs): dynamic.DiffResult {
  const { changes, ...rest } = result;
  return Object.defineProperty({ ...rest }, 'changes', {
    enumerable: true,
    get() {
      handedOver = diffs;
      // The server's setChanges follows in the same turn; should a server read `changes` and not
      // call it, the diffs are dropped before another response's setChanges could take them.
      queueMicrotask(() => {
        if (handedOver === diffs) handedOver = undefined;
      });
      return changes;
    },
  }) as dynamic.DiffResult;
}

interface ProtoMap<V> {
  set(key: string, value: V): unknown;
  clear(): void;
}
interface PropertyDiffMessage {
  setKind(kind: number): void;
  setInputdiff(inputDiff: boolean): void;
}
interface DiffResponseMessage {
  setChanges(changes: number): void;
  setDiffsList(keys: string[]): void;
  getDetaileddiffMap(): ProtoMap<PropertyDiffMessage>;
  setHasdetaileddiff(has: boolean): void;
}
interface ProviderProto {
  DiffResponse: { prototype: DiffResponseMessage };
  PropertyDiff: (new () => PropertyDiffMessage) & { Kind: Record<PropertyDiffKind, number> };
}

const INSTALLED = Symbol.for('vic-iac.forwardPropertyDiffs');

/** Makes a DiffResponse of this copy of Pulumi's protocol module carry the property diffs handed over. */
function installOn(proto: ProviderProto): void {
  const prototype = proto.DiffResponse.prototype as DiffResponseMessage & { [INSTALLED]?: true };
  if (prototype[INSTALLED]) return;
  const setChanges = prototype.setChanges;
  prototype.setChanges = function (this: DiffResponseMessage, changes: number) {
    setChanges.call(this, changes);
    const diffs = handedOver;
    handedOver = undefined;
    if (!diffs) return;
    this.setDiffsList([...diffs.diffs]);
    const detailed = this.getDetaileddiffMap();
    detailed.clear();
    for (const [path, d] of Object.entries(diffs.detailedDiff)) {
      const message = new proto.PropertyDiff();
      message.setKind(proto.PropertyDiff.Kind[d.kind]);
      message.setInputdiff(d.inputDiff);
      detailed.set(path, message);
    }
    this.setHasdetaileddiff(true);
  };
  Object.defineProperty(prototype, INSTALLED, { value: true });
}

/**
 * Installs the forwarding on the protocol module of the @pulumi/pulumi whose server runs this
 * process (the dynamic-provider host is the main module, from the program's node_modules) and on the
 * one this package resolves, when they differ.
 */
export function forwardPropertyDiffs(): void {
  const from = [require.main?.filename, __filename].filter((f): f is string => typeof f === 'string').map((f) => dirname(f));
  const seen = new Set<string>();
  for (const dir of from) {
    let path: string;
    try {
      path = require.resolve('@pulumi/pulumi/proto/provider_pb', { paths: [dir] });
    } catch {
      continue;
    }
    if (seen.has(path)) continue;
    seen.add(path);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the protocol module of the server that answers Pulumi
    installOn(require(path) as ProviderProto);
  }
}
