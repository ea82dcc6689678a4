import { t, type ResourceDeclaration } from '../../src/resources';

/**
 * A resource at schema version 2 whose state changed twice: v0 called the size "mem", v1 stored it
 * in MB as text. `extraSchema` adds attributes of the current version.
 */
export function twiceMigratedResource(extraSchema: ResourceDeclaration['schema'] = {}): ResourceDeclaration {
  return {
    type: 'container_vm',
    className: 'Synthetic',
    description: 'A resource that changed its state twice.',
    schemaVersion: 2,
    migrations: {
      0: ({ mem, ...rest }) => ({ ...rest, memory: mem }),
      1: (s) => ({ ...s, memory: Number(s.memory) }),
    },
    schema: {
      id: { type: t.string, computed: true, description: 'Id.' },
      memory: { type: t.number, optional: true, description: 'Memory in MB.' },
      ...extraSchema,
    },
    docs: { creates: '', importHelp: '', example: '' },
  };
}
