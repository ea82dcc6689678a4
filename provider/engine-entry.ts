/**
 * The engine, as its own bundle (engine-entry.js next to main.js): V8 parses the whole of a script it
 * loads, so keeping the vSphere client out of main.js keeps every provider start short. main.ts
 * loads this module only when a phase needs vSphere.
 */
export { connectEngine } from '../src/engine';
