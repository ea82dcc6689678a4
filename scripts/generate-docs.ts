/**
 * Writes the registry-style docs generated from src/resources (npm run docs). CI checks they are
 * current: test/unit/resources/docs.test.ts compares these outputs with the files on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedDocs } from '../src/resources/docs';

const root = join(__dirname, '..');
for (const [path, text] of generatedDocs()) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
