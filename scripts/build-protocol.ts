/**
 * Writes protocol-static.js, the plugin protocol as the installed provider loads it
 * (provider/protocol.ts): pbjs's static code for the messages of provider/proto (protobufjs-cli,
 * run on protobufjs/minimal) and the table of services and RPCs, as one minified bundle. A start
 * then neither builds a reflection tree nor generates encoders.
 *   npx tsx scripts/build-protocol.ts <out-file> [--sourcemap]
 * Called by scripts/build-provider.sh.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { PROTO_FILES, parseProtos, serviceShapes } from '../provider/protocol';

const REPO = resolve(__dirname, '..');
const PROTO_DIR = join(REPO, 'provider/proto');

interface Pbjs {
  main(args: string[], callback: (err: Error | null, output?: string) => void): void;
}

/** pbjs's static module for the .proto files: encode, decode, fromObject and toObject of every message. */
function staticMessages(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a devDependency without typings of its own for main()
  const { pbjs } = require('protobufjs-cli') as { pbjs: Pbjs };
  const args = [
    ...['--target', 'static-module', '--wrap', 'commonjs', '--path', PROTO_DIR],
    // The same object shapes as reflection with keepCase: snake_case field names (provider/codec.ts reads them).
    '--keep-case',
    // Only what serviceDefinition calls (encode, decode, fromObject, toObject), as reflection does: no
    // verify, create, delimited forms, type URLs or RPC classes.
    ...['--no-create', '--no-verify', '--no-delimited', '--no-typeurl', '--no-service', '--no-comments', '--no-beautify'],
    ...PROTO_FILES,
  ];
  return new Promise((ok, fail) => pbjs.main(args, (err, output) => (err ? fail(err) : ok(output ?? ''))));
}

async function main(): Promise<void> {
  const [out, flag] = process.argv.slice(2);
  if (!out) throw new Error('usage: build-protocol.ts <out-file> [--sourcemap]');
  const services = serviceShapes(parseProtos(PROTO_DIR));
  const scratch = mkdtempSync(join(tmpdir(), 'vic-protocol-'));
  try {
    writeFileSync(join(scratch, 'messages.js'), await staticMessages());
    await build({
      stdin: {
        contents: `exports.messages = require('./messages.js');\nexports.services = ${JSON.stringify(services)};\n`,
        resolveDir: scratch,
        sourcefile: 'protocol-static.js',
      },
      // protobufjs/minimal is resolved from the project's modules, whatever the scratch directory.
      nodePaths: [join(REPO, 'node_modules')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      minify: true,
      sourcemap: flag === '--sourcemap',
      outfile: resolve(out),
      logLevel: 'warning',
      plugins: [
        {
          // protobufjs/minimal uses Long.js for 64-bit integers when it can load it. The services read
          // int64 fields as numbers (provider/protocol.ts), which protobufjs produces without Long.js
          // too, and Long.js compiles a WebAssembly module when it loads: it is left out.
          name: 'without-long',
          setup(b) {
            b.onResolve({ filter: /^long$/ }, () => ({ path: 'long', namespace: 'without-long' }));
            b.onLoad({ filter: /.*/, namespace: 'without-long' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
          },
        },
      ],
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`build-protocol: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
