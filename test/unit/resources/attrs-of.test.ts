/**
 * Typed attributes: GIVEN code that reads a declaration's attributes through `AttrsOf` WHEN it is
 * type-checked THEN each attribute has the type its schema declares, and a name the schema does not
 * have is a compile error. Compiled for real, so a schema change that loosens the types fails here.
 */
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../../..');

function typeErrors(source: string): string[] {
  const file = path.join(root, 'test/unit/resources/__attrs-of-probe.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && path.resolve(d.file.fileName) === file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const header = `import type { ContainerVmAttrs } from '../../../src/resources/container-vm';
import type { AttrsOf, PlannedAttrs } from '../../../src/resources/schema';
import { image } from '../../../src/resources/image';
declare const vm: ContainerVmAttrs;
declare const img: AttrsOf<typeof image.schema>;
declare const planned: PlannedAttrs<typeof image.schema>;
`;

describe('AttrsOf', () => {
  it('GIVEN the declarations WHEN attributes are read THEN required and defaulted ones are plain values, the rest may be null (or absent, when computed)', () => {
    const errors = typeErrors(
      `${header}
const memory: number = vm.memory_mb;
const name: string = vm.name;
const power: string = vm.power_state;
const command: string[] | null = vm.command;
const env: { [key: string]: string } | null = vm.env;
const networks: string[] | null | undefined = vm.networks;
const reference: string = img.reference;
const auth: { username: string; password: string } | null = img.registry_auth;
export { memory, name, power, command, env, networks, reference, auth };
`,
    );
    expect(errors).toEqual([]);
  });

  it.each([
    ['a renamed attribute', 'vm.memory', /Property 'memory' does not exist/],
    ['a number read as a string', 'const s: string = vm.cpus;', /Type 'number' is not assignable to type 'string'/],
    ['an optional attribute read as always set', 'const s: string = vm.working_dir;', /Type 'null' is not assignable to type 'string'/],
    ['a map read as a list', 'const l: string[] | null = vm.labels;', /not assignable/],
    ['a computed input read as always there (an apply gets it only once known)', 'const l: string[] | null = vm.networks;', /'undefined' is not assignable/],
    ['a planned value read as known', 'const s: string = planned.reference;', /not assignable to type 'string'/],
  ])('GIVEN %s WHEN type-checked THEN it is a compile error', (_what, line, message) => {
    const errors = typeErrors(`${header}\n${line}\nexport {};\n`);
    expect(errors.join('\n')).toMatch(message);
  });
});
