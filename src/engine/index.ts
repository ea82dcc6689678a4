/**
 * The engine's public surface: front ends call connectEngine and program against Engine, the stack
 * planner and the pure diff helpers. This index loads no vSphere code: front ends import it at every
 * start, and the client, the lifecycles and the image pipeline load on the first connectEngine.
 */
import type { ConnectionSettings } from '../resources';
import type { SoapLogger } from '../vsphere';
import type { EngineOptions } from './engine';
import type { Engine } from './types';

export * from './types';
export { approvedChange, isEmptyValue, sameValue, withStateOnlyChanges } from './diff';
export { IdentityClaims, ObjectClaims } from './claims';

export interface ConnectEngineOptions {
  /** Debug log of SOAP calls (never credentials). */
  readonly log?: SoapLogger;
  /** Local bootstrap ISO for VCHs that name none; default: $VIC_BOOTSTRAP_ISO or the one `npm run setup` built. */
  readonly bootstrapIsoFile?: string;
  /** Told of every inventory read a refresh takes (see EngineOptions.onRefreshRead). */
  readonly onRefreshRead?: EngineOptions['onRefreshRead'];
}

/** Logs in to vSphere and returns the engine. Call `close()` to log out. */
export async function connectEngine(settings: ConnectionSettings, options: ConnectEngineOptions = {}): Promise<Engine> {
  const [{ VsphereEngine, connectVsphere }, { lifecycles }, { localBootstrapIso }] = await Promise.all([
    import('./engine'),
    import('../resources/lifecycle-registry'),
    import('../resources/bootstrap-iso'),
  ]);
  const client = await connectVsphere(settings, options.log);
  const bootstrapIsoFile = options.bootstrapIsoFile ?? localBootstrapIso();
  return new VsphereEngine(client, { lifecycles, datacenter: settings.datacenter, log: options.log, bootstrapIsoFile, onRefreshRead: options.onRefreshRead });
}
export * from './stack';
