/** migrateState: the one migration of stored state that every front end runs (pure, table-driven). */
import { migrateState, StateVersionError, type Attrs, type ResourceDeclaration } from '../../../src/resources';
import { twiceMigratedResource } from '../../helpers/synthetic-resource';

const synthetic = twiceMigratedResource();

describe('migrateState', () => {
  it.each([
    [0, { id: 'vm-1', mem: '512' }, { id: 'vm-1', memory: 512 }],
    [1, { id: 'vm-1', memory: '256' }, { id: 'vm-1', memory: 256 }],
    [2, { id: 'vm-1', memory: 128 }, { id: 'vm-1', memory: 128 }],
  ] as const)('GIVEN state at version %d WHEN migrated THEN every later step ran, in order', (from, stored, expected) => {
    expect(migrateState(synthetic, from, stored as Attrs)).toEqual(expected);
  });

  it('GIVEN state at the current version WHEN migrated THEN the very object comes back', () => {
    const stored = { id: 'vm-1', memory: 128 };
    expect(migrateState(synthetic, 2, stored)).toBe(stored);
  });

  it('GIVEN a migration that deletes from its argument WHEN migrated THEN the stored attributes are untouched', () => {
    const deleting: ResourceDeclaration = {
      ...synthetic,
      schemaVersion: 1,
      migrations: {
        0: (s) => {
          delete s.mem;
          return s;
        },
      },
    };
    const stored = { id: 'vm-1', mem: '512' };
    migrateState(deleting, 0, stored);
    expect(stored).toEqual({ id: 'vm-1', mem: '512' });
  });

  it('GIVEN state from a newer vic-iac WHEN migrated THEN a StateVersionError says so, with both versions', () => {
    const err = catchError(() => migrateState(synthetic, 3, { id: 'vm-1' }));
    expect(err).toBeInstanceOf(StateVersionError);
    expect(err).toMatchObject({ newer: true, fromVersion: 3, knownVersion: 2, type: 'container_vm' });
    expect(err.message).toBe('the state of container_vm was written with schema version 3; this vic-iac knows versions up to 2');
  });

  it('GIVEN a declaration missing a step WHEN migrated THEN the error names the step and is not "newer"', () => {
    const gap: ResourceDeclaration = { ...synthetic, migrations: { 1: synthetic.migrations[1] } };
    const err = catchError(() => migrateState(gap, 0, { id: 'vm-1' }));
    expect(err).toMatchObject({ newer: false });
    expect(err.message).toMatch(/no migration from schema version 0 to 1 for container_vm.*please report it/);
  });

  it.each([-1, 1.5, Number.NaN])('GIVEN version %p WHEN migrated THEN it is refused as no version', (from) => {
    expect(() => migrateState(synthetic, from, {})).toThrow(/is not a version/);
  });
});

function catchError(f: () => unknown): StateVersionError {
  try {
    f();
  } catch (err) {
    return err as StateVersionError;
  }
  throw new Error('expected an error');
}
