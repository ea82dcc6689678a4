/**
 * The CLI state file runs each entry through migrateState when it is read: an entry at an older
 * schema version comes back at the current one, one from a newer vic is refused with what to do.
 * (The whole path through bin/vic is in test/migration/state-migration.e2e.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState } from '../../src/cli/state-file';
import { installVchSchemaV2 } from '../helpers/schema-v2';

const vch = (schemaVersion: number, attrs: object) => ({ type: 'virtual_container_host', name: 'demo', schemaVersion, attrs, dependsOn: [] });

describe('GIVEN a state file', () => {
  let dir: string;
  let path: string;
  const write = (resources: object) => writeFileSync(path, JSON.stringify({ version: 1, resources }));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vic-state-migration-'));
    path = join(dir, 'state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('AND virtual_container_host at schema version 2 (test-only: v1 called force_destroy "force")', () => {
    let uninstall: () => void;
    beforeEach(() => (uninstall = installVchSchemaV2()));
    afterEach(() => uninstall());

    it('WHEN an entry at v1 is read THEN it comes back migrated, at v2, and the image entry beside it untouched', () => {
      const image = { type: 'image', name: 'app', schemaVersion: 1, attrs: { id: 'sha256:00' }, dependsOn: ['virtual_container_host.demo'] };
      write({ 'virtual_container_host.demo': vch(1, { id: 'resgroup-9', name: 'v', force: true }), 'image.app': image });
      expect(readState(path).resources).toEqual({
        'virtual_container_host.demo': vch(2, { id: 'resgroup-9', name: 'v', force_destroy: true }),
        'image.app': image,
      });
    });
  });

  it('WHEN an entry from a newer vic is read THEN the error names the file, the entry and says to upgrade vic', () => {
    write({ 'virtual_container_host.demo': vch(7, { id: 'resgroup-9' }) });
    expect(() => readState(path)).toThrow(
      `state file ${path}: virtual_container_host.demo: the state of virtual_container_host was written with schema version 7; this vic-iac knows versions up to 1; a newer vic wrote this state: upgrade vic`,
    );
  });

  it('WHEN an entry of an unknown resource type is read THEN the error names it and the known types', () => {
    write({ 'network.lan': { type: 'network', name: 'lan', schemaVersion: 1, attrs: {}, dependsOn: [] } });
    expect(() => readState(path)).toThrow(
      /network\.lan has resource type "network", which this vic does not know \(known: virtual_container_host, image, volume, container_vm\); upgrade vic/,
    );
  });
});
