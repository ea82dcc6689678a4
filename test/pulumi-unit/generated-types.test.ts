/** GIVEN the declarations WHEN the Pulumi types are generated THEN the committed file is current. */
import { readFileSync } from 'node:fs';
import { GENERATED_TYPES_PATH, renderPulumiTypes } from '../../pulumi-component/generate-types';
import { camelCase, declarations } from '../../src/resources';

describe('pulumi-component/types.generated.ts', () => {
  it('GIVEN the generator WHEN compared with the committed file THEN it is current (else run "npx tsx pulumi-component/generate-types.ts")', () => {
    expect(readFileSync(GENERATED_TYPES_PATH, 'utf8')).toBe(renderPulumiTypes());
  });

  it.each(declarations.map((d) => [d.className, d] as const))(
    'GIVEN %s WHEN generated THEN every settable attribute is an arg and every other one an output',
    (className, decl) => {
      const text = renderPulumiTypes([decl]);
      const args = text.slice(text.indexOf(`interface ${className}Args`), text.indexOf(`interface ${className}Outputs`));
      const outputs = text.slice(text.indexOf(`interface ${className}Outputs`));
      for (const [name, attr] of Object.entries(decl.schema)) {
        if (name === 'id') continue;
        const optional = attr.required ? '' : '?';
        if (attr.required || attr.optional) expect(args).toContain(`readonly ${camelCase(name)}${optional}: pulumi.Input<`);
        else expect(args).not.toMatch(new RegExp(`readonly ${camelCase(name)}\\??:`));
        expect(outputs).toContain(`readonly ${camelCase(name)}: pulumi.Output<`);
      }
    },
  );
});
