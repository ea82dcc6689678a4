/** GIVEN the declarations WHEN the docs are generated THEN the committed docs match (run `npm run docs`). */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from '../../../src/resources/docs';
import { declarations } from '../../../src/resources';

const root = join(__dirname, '../../..');

describe('generated docs', () => {
  const files = [...generatedDocs()];

  it.each(files.map(([p]) => [p]))('GIVEN %s WHEN compared with the generator THEN it is current (else run "npm run docs")', (path) => {
    expect(existsSync(join(root, path))).toBe(true);
    expect(readFileSync(join(root, path), 'utf8')).toBe(new Map(files).get(path));
  });

  it('GIVEN every attribute WHEN docs are generated THEN each appears on its resource page', () => {
    const pages = new Map(files);
    for (const d of declarations) {
      const page = pages.get(`docs/resources/${d.type}.md`) ?? '';
      for (const name of Object.keys(d.schema)) expect(page).toContain(`\`${name}\``);
    }
  });
});
