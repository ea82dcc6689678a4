/**
 * Row 1's Node floor: terraform-provider-vic's process (Node, grpc-js, the static protocol code, the
 * msgpack codec, the schema, the launcher's code cache) answering every RPC as the zero-work Go stub
 * (bench/stub-provider) does: no vSphere, no checks, the state echoed back. What any provider written
 * for Node pays beside Terraform, against the Go stub's same answers; vic over it is vic's own work.
 *
 *   npx tsx bench/refresh-cpu.ts --n 1000 --stub vic=.cache/provider floor=<dir>   (dir: scripts/build-node-floor.sh)
 */
import { type WireDynamicValue, VicProvider } from '../provider/provider';
import { decodeDynamicValue, encodeMsgpack, fromJsonValue, isNullDynamicValue } from '../provider/codec';
import { providerSchemas } from '../provider/schema';
import { serve } from '../provider/serve';
import { stderrLogger } from '../provider/log';
import { UNKNOWN } from '../src/resources/schema';
import { restoreExtraCaCertsForChildren } from '../src/extra-ca-certs';

type Diags = { diagnostics: never[] };
const NO_DIAGNOSTICS: Diags = { diagnostics: [] };

class FloorProvider extends VicProvider {
  private readonly kinds = providerSchemas();

  override validateProviderConfig(): Diags {
    return NO_DIAGNOSTICS;
  }

  override validateResourceConfig(): Diags {
    return NO_DIAGNOSTICS;
  }

  override configureProvider(): Diags {
    return NO_DIAGNOSTICS;
  }

  /** As the Go stub: the stored JSON decoded against the current type, sent back as msgpack. */
  override upgradeResourceState(req: { type_name: string; raw_state?: { json?: Buffer } }) {
    const type = this.kinds.resources.get(req.type_name)!.type;
    const value = req.raw_state?.json?.length
      ? fromJsonValue(type, JSON.parse(req.raw_state.json.toString('utf8')), undefined, { lenientObjects: true })
      : null;
    return { upgraded_state: { msgpack: encodeMsgpack(type, value) }, diagnostics: [] };
  }

  /** Nothing exists outside Terraform's state: the state is the truth. */
  override async readResource(req: { current_state?: WireDynamicValue; private?: Buffer }) {
    return Promise.resolve({ new_state: req.current_state, diagnostics: [], private: req.private } as never);
  }

  /**
   * What Terraform proposed; a create's computed attributes left null become unknown, as the Go stub
   * plans them (decoded and encoded once, as it does).
   */
  override async planResourceChange(req: { type_name: string; prior_state?: WireDynamicValue; proposed_new_state?: WireDynamicValue; prior_private?: Buffer }) {
    const dv = (v: WireDynamicValue | undefined) => v as { msgpack?: Uint8Array; json?: Uint8Array } | undefined;
    if (!isNullDynamicValue(dv(req.prior_state)) || isNullDynamicValue(dv(req.proposed_new_state)))
      return Promise.resolve({ planned_state: req.proposed_new_state, requires_replace: [], planned_private: req.prior_private, diagnostics: [] } as never);
    const kind = this.kinds.resources.get(req.type_name)!;
    const proposed = decodeDynamicValue(kind.type, dv(req.proposed_new_state)) as Record<string, unknown>;
    for (const [name, attr] of Object.entries(kind.declaration!.schema)) if (attr.computed && proposed[name] === null) proposed[name] = UNKNOWN;
    return Promise.resolve({ planned_state: { msgpack: encodeMsgpack(kind.type, proposed as never) }, requires_replace: [], diagnostics: [] } as never);
  }
}

export function start(): void {
  // Started as the provider is, NODE_EXTRA_CA_CERTS deferred by its launcher (src/extra-ca-certs.ts).
  restoreExtraCaCertsForChildren(process.env);
  const logger = stderrLogger(process.env);
  console.log = console.error;
  process.on('SIGINT', () => undefined);
  serve({
    provider: new FloorProvider({ connect: () => Promise.reject(new Error('the floor connects nowhere')), logger, env: process.env }),
    logger,
    onExit: () => process.exit(0),
  }).catch((err: unknown) => {
    process.stderr.write(`node-floor-provider failed to start: ${String(err)}\n`);
    process.exit(1);
  });
}
