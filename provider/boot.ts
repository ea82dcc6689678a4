/**
 * What the installed launcher runs: main.js (the provider) loaded through the V8 code cache
 * (code-cache.ts). Kept apart from main.js so that it is small enough to compile at no cost.
 */
import { join } from 'node:path';
import { loadBundle } from './code-cache';

// Not destructured: a top-level `exports` binding collides with CommonJS's own (TS2441) once compiled.
const provider = loadBundle(join(__dirname, 'main.js')).exports as typeof import('./main');
provider.start();
