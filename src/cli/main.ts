/**
 * `vic`: plan and apply VCHs, images and container VMs from a YAML spec, list them, and run the
 * embedded vSphere simulator. Exit codes: 0 ok, 1 failure, 2 usage or validation error (and for
 * `plan --detailed-exitcode`: 0 no changes, 1 error, 2 changes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ConnectionError, addConnectionOptions, connectCli, connectionFromOptions } from './connection-options';
import { CliError, EXIT, type CliContext } from './context';
import {
  DEFAULT_SIM_PORT,
  SimulatorError,
  differingOptions,
  exportLines,
  runningSimulator,
  simulatorStateDir,
  startEmbeddedSimulator,
  stopEmbeddedSimulator,
} from './embedded-simulator';
import { parseDuration } from '../resources';
import { SpecError } from './spec';
import { StateFileError, type SpecState } from './state-file';
import { colorWanted, stylesFor } from './terminal';

/** This package's name and version, and its root (the directory of its package.json). */
function packageInfo(): { name: string; version: string; root: string } {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return { name: 'vic-iac', version: 'unknown', root: __dirname };
    dir = parent;
  }
  return { ...(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string }), root: dir };
}

function makeContext(color: boolean): CliContext {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    styles: stylesFor(color && colorWanted(process.stdout)),
    errStyles: stylesFor(color && colorWanted(process.stderr)),
  };
}

const SPEC_HELP = `
The spec is YAML: one map per resource type, of resource names to attributes, with the
Terraform attribute names (docs/resources/*.md). References: "\${type.name.attribute}".

  virtual_container_host:
    demo: { name: vch-demo, compute: /DC0/host/DC0_C0, datastore: LocalDS_0 }
  image:
    busybox: { vch_id: "\${virtual_container_host.demo.id}", reference: "registry/busybox:1" }
  container_vm:
    web: { vch_id: "\${virtual_container_host.demo.id}", image_id: "\${image.busybox.id}", name: web-1 }

The connection comes from the flags or the VSPHERE_* environment variables;
for the embedded simulator: eval "$(vic sim start)".`;

export function buildProgram(exit: { code: number }): Command {
  const program = new Command('vic');
  const info = packageInfo();
  program
    .description('vSphere Integrated Containers as code: virtual container hosts, images, volumes and container VMs from a YAML spec')
    .option('--no-color', 'no colours in the output (also: NO_COLOR=1, or when not a terminal)')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  const ctxOf = (cmd: Command): CliContext => makeContext(cmd.optsWithGlobals().color !== false);

  const stackCommand = (name: string, description: string) =>
    addConnectionOptions(
      program
        .command(name)
        .description(description)
        .requiredOption('-f, --file <spec.yaml>', 'the spec')
        .option('--state <path>', 'the state file (default: .vic/state.json beside the spec)')
        .option('--json', 'machine-readable output on stdout')
        .exitOverride(),
    ).addHelpText('after', SPEC_HELP);

  stackCommand('plan', 'show what apply would change, without changing anything')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on errors')
    .option('--no-refresh', 'plan against the state as saved, without reading vSphere first')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { planCommand } = await import('./stack-commands');
      const detailed = opts.detailedExitcode === true;
      try {
        exit.code = await planCommand(
          ctxOf(cmd),
          {
            file: String(opts.file),
            state: opts.state as string | undefined,
            json: opts.json === true,
            refresh: opts.refresh !== false,
            detailedExitcode: detailed,
          },
          connectionFromOptions(opts),
        );
      } catch (err) {
        // Terraform's convention: with --detailed-exitcode, 2 means changes, so every error is 1.
        if (detailed && err instanceof CliError) throw new CliError(err.message, EXIT.failure);
        if (detailed && (err instanceof SpecError || err instanceof ConnectionError)) throw new CliError(err.message, EXIT.failure);
        throw err;
      }
    });

  const lockTimeout = () =>
    new Option('--lock-timeout <duration>', 'how long to wait when another vic run holds the state lock, e.g. 30s or 5m (default: fail at once)').argParser(
      (v) => parseLockTimeout(v),
    );

  /** apply and destroy: the same options, one mode apart. */
  const applyAction = (mode: 'apply' | 'destroy') => async (opts: Record<string, unknown>, cmd: Command) => {
    const { applyCommand } = await import('./stack-commands');
    const options = {
      file: String(opts.file),
      state: opts.state as string | undefined,
      json: opts.json === true,
      autoApprove: opts.autoApprove === true,
      lockTimeoutMs: opts.lockTimeout as number | undefined,
    };
    exit.code = await applyCommand(ctxOf(cmd), options, connectionFromOptions(opts), mode);
  };

  stackCommand('apply', 'plan, then create, update or replace what the spec declares (state saved after every resource)')
    .option('-y, --auto-approve', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .addOption(lockTimeout())
    .action(applyAction('apply'));

  stackCommand('destroy', 'delete everything the state of this spec holds, container VMs first')
    .option('-y, --auto-approve', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .addOption(lockTimeout())
    .action(applyAction('destroy'));

  addConnectionOptions(
    program
      .command('ls')
      .description('list VCHs, images, volumes and container VMs with their power states')
      .option('-f, --file <spec.yaml>', 'list what the state of this spec holds, refreshed from vSphere')
      .option('--state <path>', 'list what this state file holds, refreshed from vSphere')
      .option('--all', 'list everything vic-iac made that vSphere holds, found by its markers')
      .option('--json', 'machine-readable output on stdout')
      .exitOverride(),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const ctx = ctxOf(cmd);
    const where = { file: opts.file as string | undefined, state: opts.state as string | undefined };
    if (!opts.all && where.file === undefined && where.state === undefined)
      throw new CliError('vic ls needs -f <spec.yaml>, --state <path> or --all', EXIT.usage);
    const settings = connectionFromOptions(opts);
    let state: SpecState | undefined;
    if (!opts.all) {
      // The same checks as the state commands: the spec exists, a --state path holds a file, and the
      // state beside the spec is that spec's.
      const { declaredAddresses, locateState, readOwnedState } = await import('./state-location');
      const { statePath, exists } = locateState('ls', where, { stateMustExist: true });
      if (!exists) ctx.err(`No state file at ${statePath}: nothing was applied or imported there yet.\n`);
      state = readOwnedState('ls', where, statePath, () => declaredAddresses(where.file));
    }
    const { inventoryFromState, inventoryFromVsphere, renderInventory } = await import('./inventory');
    const engine = await connectCli(settings);
    try {
      const rows = opts.all ? await inventoryFromVsphere(engine) : await inventoryFromState(engine, state!);
      if (opts.json) ctx.out(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        const s = ctx.styles;
        ctx.out(
          renderInventory(rows, (status) =>
            status === 'poweredOn' || status === 'ready' || status === 'stored' || status === 'in use'
              ? s.green(status)
              : status === 'gone'
                ? s.red(status)
                : s.yellow(status),
          ),
        );
      }
    } finally {
      await engine.close();
    }
  });

  addConnectionOptions(
    program
      .command('import')
      .description('adopt an existing vSphere object (VCH, image, volume, container VM) into the state of a resource the spec declares')
      .argument('<address>', 'the resource in the spec, e.g. container_vm.web')
      .argument(
        '<id>',
        'the object: a VCH by pool MOID or inventory path, an image as <vch_id>/<digest>, a volume by datastore path, a container VM by BIOS UUID, MOID or inventory path',
      )
      .requiredOption('-f, --file <spec.yaml>', 'the spec')
      .option('--state <path>', 'the state file (default: .vic/state.json beside the spec)')
      .addOption(lockTimeout())
      .exitOverride(),
  ).action(async (address: string, id: string, opts: Record<string, unknown>, cmd: Command) => {
    const { importCommand } = await import('./state-commands');
    const options = { file: String(opts.file), state: opts.state as string | undefined, address, id, lockTimeoutMs: opts.lockTimeout as number | undefined };
    exit.code = await importCommand(ctxOf(cmd), options, connectionFromOptions(opts));
  });

  const state = program
    .command('state')
    .description('read or edit the state of a spec by hand: list what it holds, forget an object or rename its address (vSphere keeps it)')
    .exitOverride();
  state
    .command('list')
    .description('the addresses in the state, one a line (no vSphere connection)')
    .argument('[filter...]', 'only these addresses, or the addresses of these resource types')
    .option('-f, --file <spec.yaml>', 'the state beside this spec')
    .option('--state <path>', 'this state file')
    .option('--json', 'machine-readable output on stdout, with each id')
    .exitOverride()
    .action(async (filters: string[], opts: Record<string, unknown>, cmd: Command) => {
      const { stateListCommand } = await import('./state-commands');
      exit.code = stateListCommand(ctxOf(cmd), {
        file: opts.file as string | undefined,
        state: opts.state as string | undefined,
        filters,
        json: opts.json === true,
      });
    });
  state
    .command('rm')
    .description('forget resources: they leave the state, their vSphere objects stay as they are (no vSphere connection)')
    .argument('<address...>', 'the resources, e.g. container_vm.web')
    .option('-f, --file <spec.yaml>', 'the state beside this spec')
    .option('--state <path>', 'this state file')
    .option('--dry-run', 'say what would be removed, and change nothing')
    .addOption(lockTimeout())
    .exitOverride()
    .action(async (addresses: string[], opts: Record<string, unknown>, cmd: Command) => {
      const { stateRmCommand } = await import('./state-commands');
      const options = {
        file: opts.file as string | undefined,
        state: opts.state as string | undefined,
        addresses,
        dryRun: opts.dryRun === true,
        lockTimeoutMs: opts.lockTimeout as number | undefined,
      };
      exit.code = await stateRmCommand(ctxOf(cmd), options);
    });

  state
    .command('mv')
    .description("rename a resource's address in the state, after the spec renamed it: its vSphere object stays (no vSphere connection)")
    .argument('<from>', 'the address in the state, e.g. container_vm.web')
    .argument('<to>', 'the new address, of the same type, e.g. container_vm.web2')
    .option('-f, --file <spec.yaml>', 'the state beside this spec')
    .option('--state <path>', 'this state file')
    .option('--dry-run', 'say what would be moved, and change nothing')
    .addOption(lockTimeout())
    .exitOverride()
    .action(async (from: string, to: string, opts: Record<string, unknown>, cmd: Command) => {
      const { stateMvCommand } = await import('./state-commands');
      const options = {
        file: opts.file as string | undefined,
        state: opts.state as string | undefined,
        from,
        to,
        dryRun: opts.dryRun === true,
        lockTimeoutMs: opts.lockTimeout as number | undefined,
      };
      exit.code = await stateMvCommand(ctxOf(cmd), options);
    });

  addConnectionOptions(
    program
      .command('logs')
      .description("a container's output (stdout and stderr apart), from its VM's console file")
      .argument('<name>', 'the container VM')
      .option('--follow', 'keep printing new output until the container VM stops')
      .option('--tail <n>', 'only the last n lines of what is there already')
      .option('--timestamps', 'prefix each line with the time the guest read it (RFC 3339)')
      .option('--vch <name>', 'the VCH, when the name is in several')
      .exitOverride(),
  ).action(async (name: string, opts: Record<string, unknown>, cmd: Command) => {
    const ctx = ctxOf(cmd);
    let tail: number | undefined;
    if (opts.tail !== undefined) {
      tail = Number(opts.tail);
      if (!Number.isInteger(tail) || tail < 0) throw new CliError(`--tail ${String(opts.tail)}: expected a whole number of lines, 0 or more`, EXIT.usage);
    }
    const settings = connectionFromOptions(opts);
    const { containerLogs } = await import('./logs');
    const engine = await connectCli(settings);
    try {
      await containerLogs(
        engine,
        name,
        { follow: opts.follow === true, tail, timestamps: opts.timestamps === true, vch: opts.vch as string | undefined },
        { stdout: (t) => ctx.out(t), stderr: (t) => ctx.err(t) },
      );
    } finally {
      await engine.close();
    }
  });

  const endpoint = program
    .command('endpoint')
    .description('the Docker Engine API for one VCH: the standard docker CLI drives its container VMs (docs/endpoint.md)')
    .exitOverride();
  const endpointDir = () => new Option('--dir <path>', 'where the certificates and the endpoint record are (default: $XDG_DATA_HOME/vic-iac/endpoint)');
  addConnectionOptions(
    endpoint
      .command('serve')
      .description('serve the Docker Engine API for a VCH (mutual TLS by default; runs until interrupted)')
      .requiredOption('--vch <name>', 'the virtual container host, by name or pool MOID')
      .option('--listen <host:port>', 'address to listen on (default: 127.0.0.1:2376 with TLS, 127.0.0.1:2375 with --plain-http)')
      .addOption(endpointDir())
      .option('--plain-http', 'serve plain HTTP without TLS: allowed on loopback addresses only')
      .option('--insecure-registry <host:port...>', "registries reached over plain HTTP or unverified TLS, as dockerd's flag")
      .option(
        '--start-wait <seconds>',
        'how long docker start waits for the container process to report that it runs (default 120, and 0 against vic sim start --no-guests; 0: return at the power-on)',
      )
      .exitOverride(),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const ctx = ctxOf(cmd);
    const { serveEndpointCommand } = await import('../endpoint/command');
    exit.code = await serveEndpointCommand(ctx, opts, connectionFromOptions(opts), info.version);
  });
  endpoint
    .command('certs')
    .description('make a CA, a server certificate and a client bundle (ca.pem, cert.pem, key.pem) with an env file for the docker CLI')
    .addOption(endpointDir())
    .option('--host <name-or-ip...>', 'names and addresses the endpoint is reached at: each a SAN of the server certificate (default: localhost 127.0.0.1)')
    .addOption(new Option('--port <n>', 'the port DOCKER_HOST names').default(2376).argParser((v) => parsePort(v)))
    .option('--force', 'replace the certificates already in the directory (restart a running endpoint and hand out the new client bundle after)')
    .exitOverride()
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { certsCommand } = await import('../endpoint/command');
      await certsCommand(ctxOf(cmd), opts);
    });
  endpoint
    .command('env')
    .description('print the DOCKER_* exports for the running endpoint: eval "$(vic endpoint env)"')
    .addOption(endpointDir())
    .exitOverride()
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { envCommand } = await import('../endpoint/command');
      envCommand(ctxOf(cmd), opts);
    });

  const sim = program
    .command('sim')
    .description('the embedded vSphere simulator (govmomi vcsim), for trying vic without a vCenter')
    .exitOverride()
    .addHelpText('after', `\nState: ${simulatorStateDir()} ($XDG_DATA_HOME/vic-iac/sim). Use it with: eval "$(vic sim start)"`);
  sim
    .command('start')
    .description('start the simulator in the background (or keep the running one) and print the VSPHERE_* exports')
    .addOption(
      new Option('--port <n>', 'port on 127.0.0.1 (0: a free one)')
        .default(DEFAULT_SIM_PORT)
        .env('VIC_SIM_PORT')
        .argParser((v) => parsePort(v)),
    )
    .option('--no-guests', 'do not run container VMs in QEMU: powered-on VMs stay model objects')
    .option('--max-guests <n>', 'QEMU processes at once; more powered-on VMs wait in a queue (default 2)')
    .option('--json', 'machine-readable output on stdout')
    .exitOverride()
    .action(async (opts: { port: number; json?: boolean; guests: boolean; maxGuests?: string }, cmd: Command) => {
      const ctx = ctxOf(cmd);
      const maxGuests = opts.maxGuests === undefined ? undefined : Number(opts.maxGuests);
      if (maxGuests !== undefined && (!Number.isInteger(maxGuests) || maxGuests < 1)) {
        throw new CliError(`--max-guests ${String(opts.maxGuests)}: expected a whole number, 1 or more`, EXIT.usage);
      }
      const { record, reused } = await startEmbeddedSimulator(simulatorStateDir(), { port: opts.port, guests: opts.guests, maxGuests });
      if (reused) {
        // Options given on the command line (or VIC_SIM_PORT) that the running simulator does not
        // have were not applied: say so and fail rather than hand out exports of another setup.
        const given = (name: string) => ['cli', 'env'].includes(cmd.getOptionValueSource(name) ?? '');
        const { asked, has } = differingOptions(record, {
          port: given('port') ? opts.port : undefined,
          guests: given('guests') ? opts.guests : undefined,
          maxGuests,
        });
        if (asked.length > 0) {
          throw new SimulatorError(
            `the simulator already runs (${record.url}, pid ${record.pid}) with ${has.join(', ')}, not ${asked.join(', ')}: nothing was changed. ` +
              `Stop it first (vic sim stop) to start it with other options, or run vic sim start without them to use it as it is.`,
          );
        }
      }
      if (opts.json) ctx.out(`${JSON.stringify({ ...record, reused }, null, 2)}\n`);
      else {
        ctx.out(`# vSphere simulator ${reused ? 'already running' : 'started'}: ${record.url} (pid ${record.pid})\n`);
        ctx.out(`# Point vic, Terraform and Pulumi at it with: eval "$(vic sim start)"\n${exportLines(record).join('\n')}\n`);
      }
    });
  sim
    .command('status')
    .description('say whether the simulator runs (exit 0) or not (exit 3), with the VSPHERE_* exports')
    .option('--json', 'machine-readable output on stdout')
    .exitOverride()
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = ctxOf(cmd);
      const record = await runningSimulator(simulatorStateDir());
      if (opts.json) ctx.out(`${JSON.stringify(record ? { running: true, ...record } : { running: false }, null, 2)}\n`);
      else if (record)
        ctx.out(`# vSphere simulator running: ${record.url} (pid ${record.pid}, since ${record.startedAt})\n${exportLines(record).join('\n')}\n`);
      else ctx.out('# vSphere simulator not running; start it with: vic sim start\n');
      exit.code = record ? EXIT.ok : 3;
    });
  sim
    .command('stop')
    .description('stop the simulator (its inventory is lost: it lives in memory)')
    .exitOverride()
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = ctxOf(cmd);
      const { stopped, pid } = await stopEmbeddedSimulator(simulatorStateDir());
      ctx.out(stopped ? `vSphere simulator stopped (pid ${pid}).\n` : 'vSphere simulator was not running.\n');
    });

  program
    .command('provider')
    .description('the Terraform provider this package ships')
    .exitOverride()
    .command('install')
    .argument('[mirror]', 'a filesystem mirror directory (default ~/.terraform.d/plugins, which Terraform and OpenTofu read unasked)')
    .description('put the provider into a filesystem mirror, for terraform init and cdktf deploy (docs/terraform.md)')
    .exitOverride()
    .action(async (mirror: string | undefined, _opts: unknown, cmd: Command) => {
      const ctx = ctxOf(cmd);
      const { installProvider } = await import('./provider-install');
      let targets: string[];
      try {
        targets = installProvider({ mirror, root: info.root, version: info.version });
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err), EXIT.failure);
      }
      for (const t of targets) ctx.out(`installed vic-iac/vic ${info.version} into ${t}\n`);
      ctx.out(
        `terraform init now finds it (source = "vic-iac/vic", version = "${info.version}")${mirror ? `: name ${mirror} in a filesystem_mirror block of your CLI configuration` : ''}\n`,
      );
    });

  program
    .command('version')
    .description('print the version of vic')
    .option('--json', 'machine-readable output on stdout')
    .exitOverride()
    .action((opts: { json?: boolean }, cmd: Command) => {
      const ctx = ctxOf(cmd);
      const v = { name: info.name, version: info.version, node: process.version, platform: `${process.platform}/${process.arch}` };
      ctx.out(opts.json ? `${JSON.stringify(v, null, 2)}\n` : `vic ${v.version} (${v.name}, node ${v.node}, ${v.platform})\n`);
    });
  program.version(info.version, '-V, --version', 'print the version');
  return program;
}

function parseLockTimeout(v: string): number {
  const ms = v === '0' ? 0 : parseDuration(v);
  if (ms === undefined) throw new CommanderError(EXIT.usage, 'vic.lock-timeout', `--lock-timeout must be a duration such as 30s, 5m or 1h (or 0), got "${v}"`);
  return ms;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(EXIT.usage, 'vic.port', `--port must be 0..65535, got "${v}"`);
  return n;
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const exit = { code: EXIT.ok };
  const program = buildProgram(exit);
  const err = makeContext(!argv.includes('--no-color'));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version print and exit 0; anything else commander rejects is a usage error.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return EXIT.ok;
      if (e.code === 'vic.port' || e.code === 'vic.lock-timeout') err.err(`error: ${e.message}\n`);
      return EXIT.usage;
    }
    const red = err.errStyles.red;
    if (e instanceof SpecError) {
      err.err(`${red('Error:')} the spec is invalid:\n${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CliError) {
      err.err(`${red('Error:')} ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ConnectionError || e instanceof StateFileError) {
      err.err(`${red('Error:')} ${e.message}\n`);
      return e instanceof ConnectionError ? EXIT.usage : EXIT.failure;
    }
    if (e instanceof SimulatorError) {
      err.err(`${red('Error:')} ${e.message}\n`);
      return EXIT.failure;
    }
    err.err(`${red('Error:')} ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.VIC_DEBUG && e instanceof Error) err.err(`${e.stack}\n`);
    return EXIT.failure;
  }
}

/** What a shell reports for a process that SIGPIPE ended: 128 + 13. */
export const EXIT_CLOSED_PIPE = 141;

/**
 * A reader that went away (`vic ls | head -1`) ends vic as SIGPIPE ends other Unix tools: quietly,
 * with status 141. Node ignores SIGPIPE, so the write fails with EPIPE instead, which the stream
 * emits as an 'error' event: unhandled, that printed a stack.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WritableStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exit(EXIT_CLOSED_PIPE);
  });
}

if (require.main === module) {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vic: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
