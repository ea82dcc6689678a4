/**
 * A test-only schema version 2 of virtual_container_host, registered on the real declaration in the
 * process that calls it: at version 1, `force_destroy` was called `force`. The attribute is
 * state-only (vSphere has no field for it and a refresh keeps the stored value), so nothing but the
 * migration carries a stored `force: true` over. Without it the value is lost, and the next plan
 * shows `force_destroy` changing.
 *
 * Child processes (the provider that terraform starts, bin/vic) get it through NODE_OPTIONS:
 * `schemaV2NodeOptions()` preloads test/fixtures/migration/vch-schema-v2.ts.
 */
import { join } from 'node:path';
import { virtualContainerHost, type Attrs, type ResourceDeclaration } from '../../src/resources';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** v1 → v2: `force` became `force_destroy`. */
export function renameForce({ force, ...rest }: Attrs): Attrs {
  return { ...rest, force_destroy: force ?? null };
}

/** Makes virtual_container_host schema version 2 in this process; returns the undo. */
export function installVchSchemaV2(): () => void {
  const decl = virtualContainerHost as Mutable<ResourceDeclaration>;
  const saved = { schemaVersion: decl.schemaVersion, migrations: decl.migrations };
  if (saved.schemaVersion !== 1)
    throw new Error(`virtual_container_host is at schema version ${saved.schemaVersion} now: move this test's v2 on to ${saved.schemaVersion + 1}`);
  decl.schemaVersion = 2;
  decl.migrations = { ...decl.migrations, 1: renameForce };
  return () => Object.assign(decl, saved);
}

/** NODE_OPTIONS that install the v2 in a Node process running the TypeScript sources. */
export function schemaV2NodeOptions(): string {
  const root = join(__dirname, '../..');
  return `--require ${join(root, 'node_modules/tsx/dist/cjs/index.cjs')} --require ${join(root, 'test/fixtures/migration/vch-schema-v2.ts')}`;
}

/** A v1 state of a VCH from its current (v2) attributes: `force_destroy` stored as `force`. */
export function asVersion1({ force_destroy, ...rest }: Attrs): Attrs {
  return { ...rest, force: force_destroy ?? null };
}
