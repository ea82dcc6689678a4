/**
 * What the installed launcher runs: main.js (the provider) loaded through the V8 code cache
 * (code-cache.ts). Kept apart from main.js so that it is small enough to compile at no cost.
 */
import { join } from 'node:path';
import { loadBundle } from './code-cache';

const { exports } = loadBundle(join(__dirname, 'main.js'));
(exports as typeof import('./main')).start();
