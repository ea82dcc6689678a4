/**
 * Stored state from an older schema version, brought to the current one. Every front end runs its
 * loaded state through here: Terraform's UpgradeResourceState, the Pulumi dynamic provider's stored
 * outputs and the `vic` state file. A declaration bumps `schemaVersion` and adds `migrations[n]`
 * (version n to n + 1) whenever the shape of its state changes; the steps run in order.
 */
import type { ResourceDeclaration } from './definition';
import type { Attrs } from './schema';

/** State whose version this vic-iac cannot bring to the current one. */
export class StateVersionError extends Error {
  override readonly name = 'StateVersionError';

  constructor(
    message: string,
    readonly type: string,
    readonly fromVersion: number,
    readonly knownVersion: number,
    /** True when a newer vic-iac wrote the state: the cure is upgrading vic-iac. */
    readonly newer: boolean,
  ) {
    super(message);
  }
}

/**
 * `attrs` as stored at `fromVersion` (attribute names as in the engine, snake_case), migrated to
 * `decl.schemaVersion`. Pure: the input is never modified. At the current version it is returned
 * as is. Attributes added since are simply absent; each front end shapes the result to its schema.
 */
export function migrateState(decl: ResourceDeclaration, fromVersion: number, attrs: Attrs): Attrs {
  const known = decl.schemaVersion;
  if (!Number.isInteger(fromVersion) || fromVersion < 0) {
    throw new StateVersionError(
      `the state of ${decl.type} has schema version ${String(fromVersion)}, which is not a version (0, 1, 2, …)`,
      decl.type,
      fromVersion,
      known,
      false,
    );
  }
  if (fromVersion > known) {
    throw new StateVersionError(
      `the state of ${decl.type} was written with schema version ${fromVersion}; this vic-iac knows versions up to ${known}`,
      decl.type,
      fromVersion,
      known,
      true,
    );
  }
  let state = attrs;
  for (let v = fromVersion; v < known; v++) {
    const step = decl.migrations[v];
    if (!step) {
      throw new StateVersionError(
        `no migration from schema version ${v} to ${v + 1} for ${decl.type}; this vic-iac is incomplete, please report it`,
        decl.type,
        fromVersion,
        known,
        false,
      );
    }
    state = step({ ...state });
  }
  return state;
}
