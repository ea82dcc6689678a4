/**
 * `vic plan`, `vic apply` and `vic destroy` over a YAML spec and its state file.
 */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { EMPTY_STATE, addressOf, type Engine, type StackPlan, type StackResource, type StackState } from '../engine';
import { formatPath, type ConnectionSettings } from '../resources';
import { ApplyReporter } from './apply-progress';
import { connectCli } from './connection-options';
import { CliError, EXIT, vicCommand, type CliContext } from './context';
import { hasChanges, planAsJson, renderPlan, summarize, type PlanSummary } from './plan-view';
import { formatSpecProblem, loadSpec, type LoadedSpec, type SpecProblem } from './spec';
import { lockState, ownedBy, writeState } from './state-file';
import { declaredAddresses, locateState, readOwnedState } from './state-location';

export interface StackOptions {
  readonly file: string;
  readonly state?: string;
  readonly json?: boolean;
  readonly refresh?: boolean;
  /** How long apply and destroy wait for another run's state lock; default 0 (fail at once). */
  readonly lockTimeoutMs?: number;
}

async function connect(settings: ConnectionSettings): Promise<Engine> {
  return connectCli(settings);
}

/** Plan problems (vSphere checks) located in the spec like schema errors. */
function planProblems(spec: LoadedSpec, plan: StackPlan): SpecProblem[] {
  return plan.problems
    .filter((p) => (p.severity ?? 'error') === 'error')
    .map((p) => ({ file: spec.file, line: spec.lineOf(p.address, p.path), address: p.address, path: p.path, message: p.detail }));
}

function planWarnings(plan: StackPlan): string[] {
  return plan.problems.filter((p) => p.severity === 'warning').map((p) => `${p.address}${p.path.length ? `.${formatPath(p.path)}` : ''}: ${p.detail}`);
}

interface Planned {
  readonly spec: LoadedSpec;
  readonly resources: readonly StackResource[];
  readonly state: StackState;
  readonly statePath: string;
  readonly engine: Engine;
  readonly plan: StackPlan;
}

/**
 * The spec as a destroy sees it: its file names the state (locateState checked that it exists), and
 * nothing it declares is created or updated, so a spec that would not plan (an invalid value, a
 * duplicate name) never blocks it.
 */
function specForDestroy(file: string): LoadedSpec {
  return { file, resources: [], lineOf: () => undefined };
}

/** The same command with another state path, for the remedies of an owner conflict. */
function rerunWithState(mode: 'plan' | 'destroy', command: string, file: string): (statePath: string) => string {
  return (statePath) => vicCommand([mode === 'destroy' ? 'destroy' : command, '-f', file, '--state', statePath]);
}

async function makePlan(ctx: CliContext, options: StackOptions, mode: 'plan' | 'destroy', settings: ConnectionSettings, command: string): Promise<Planned> {
  // A destroy needs a state that exists; a plan or apply with a new --state path makes it.
  const { statePath } = locateState(command, options, { stateMustExist: mode === 'destroy' });
  const spec = mode === 'destroy' ? specForDestroy(options.file) : loadSpec(options.file);
  const resources = spec.resources;
  const state = readOwnedState(
    command,
    options,
    statePath,
    () => (mode === 'destroy' ? declaredAddresses(options.file) : resources.map(addressOf)),
    rerunWithState(mode, command, options.file),
  );
  const engine = await connect(settings);
  try {
    const { planStack } = await import('../engine');
    const plan = await planStack(engine, resources, state, { refresh: options.refresh !== false });
    return { spec, resources, state, statePath, engine, plan };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

/**
 * What `apply --json` and `destroy --json` print, whatever the end: the plan, how it ended, the
 * plan's counts and the state file. `error` says why, when it did not apply.
 */
export type ApplyOutcome = 'applied' | 'no-changes' | 'failed' | 'plan-failed';

function printOutcome(ctx: CliContext, plan: object, outcome: ApplyOutcome, summary: PlanSummary, statePath: string, error?: string): void {
  ctx.out(`${JSON.stringify({ plan, outcome, summary, state: statePath, ...(error !== undefined ? { error } : {}) }, null, 2)}\n`);
}

/** Plan problems end the command (exit 2); `outcome` prints them first for apply/destroy --json. */
function failOnProblems(ctx: CliContext, p: Planned, json: boolean, outcome?: (error: string) => void): void {
  const problems = planProblems(p.spec, p.plan);
  if (problems.length === 0) return;
  const message = `the spec cannot be applied:\n${problems.map(formatSpecProblem).join('\n')}`;
  if (json && outcome) outcome(message);
  else if (json) ctx.out(`${JSON.stringify(planAsJson(p.plan), null, 2)}\n`);
  throw new CliError(message, EXIT.usage);
}

const NO_CHANGES: PlanSummary = { add: 0, change: 0, destroy: 0 };

/** The plan of nothing, as --json prints it, for a destroy that has nothing to plan. */
function emptyPlan(): object {
  return planAsJson({ changes: [], problems: [], refreshed: EMPTY_STATE });
}

export async function planCommand(
  ctx: CliContext,
  options: StackOptions & { detailedExitcode?: boolean },
  settings: ConnectionSettings,
  mode: 'plan' | 'destroy' = 'plan',
): Promise<number> {
  const p = await makePlan(ctx, options, mode, settings, mode === 'destroy' ? 'plan -destroy' : 'plan');
  try {
    failOnProblems(ctx, p, options.json === true);
    if (options.json) ctx.out(`${JSON.stringify(planAsJson(p.plan), null, 2)}\n`);
    else {
      for (const w of planWarnings(p.plan)) ctx.err(`${ctx.errStyles.yellow('Warning:')} ${w}\n`);
      ctx.out(renderPlan(p.plan, ctx.styles, mode));
    }
    return options.detailedExitcode && hasChanges(p.plan) ? 2 : EXIT.ok;
  } finally {
    await p.engine.close();
  }
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  // Without colour (--no-color, NO_COLOR, TERM=dumb) the prompt is plain text too: readline's line
  // editing writes cursor escapes, so it runs only when the output may hold them.
  const terminal = ctx.styles.enabled && process.stdout.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal });
  // Ctrl-C answers "no": on a line-editing terminal readline gets it as a key; otherwise as a signal.
  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  rl.on('SIGINT', onInterrupt);
  if (!terminal) process.once('SIGINT', onInterrupt);
  try {
    const answer = await rl.question(`${question}\n  Only 'yes' will be accepted: `, { signal: interrupted.signal });
    return answer.trim() === 'yes';
  } catch (err) {
    if (interrupted.signal.aborted) {
      if (!terminal) process.stdout.write('\n');
      return false;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    rl.close();
  }
}

export async function applyCommand(
  ctx: CliContext,
  options: StackOptions & { autoApprove?: boolean },
  settings: ConnectionSettings,
  mode: 'apply' | 'destroy' = 'apply',
): Promise<number> {
  const interactive = process.stdin.isTTY === true && options.json !== true;
  const cannotAsk = `vic ${mode} needs --auto-approve when it cannot ask (no terminal on stdin, or --json)`;
  // --json prints one object however it ends, so it fails before planning; without a terminal the
  // plan is shown first, as Terraform does, then the apply stops where it would have asked.
  if (!options.autoApprove && options.json) throw new CliError(cannotAsk, EXIT.usage);
  // A destroy of a state that holds nothing has nothing to lock or plan, and writes nothing.
  const { statePath, exists } = locateState(mode, options, { stateMustExist: mode === 'destroy' });
  if (mode === 'destroy') {
    const held = exists
      ? readOwnedState(mode, options, statePath, () => declaredAddresses(options.file), rerunWithState('destroy', mode, options.file))
      : EMPTY_STATE;
    if (Object.keys(held.resources).length === 0) {
      if (options.json) printOutcome(ctx, emptyPlan(), 'no-changes', NO_CHANGES, statePath);
      else
        ctx.out(
          `Nothing to destroy: ${exists ? `the state ${statePath} holds no resources` : `there is no state at ${statePath} (nothing was applied there yet)`}.\n`,
        );
      return EXIT.ok;
    }
  }
  const release = await lockState(statePath, { timeoutMs: options.lockTimeoutMs, command: `vic ${mode}` });
  // Ctrl-C from here on: the resources in flight stop waiting for their tasks, the state is saved.
  const abort = new AbortController();
  let interrupts = 0;
  // While the prompt asks, Ctrl-C is its answer (confirm), not an interrupt of the work.
  let asking = false;
  const onSigint = () => {
    if (asking) return;
    interrupts++;
    if (interrupts > 1) process.exit(130);
    ctx.err('\nInterrupt: stopping the task waits in flight and saving the state (press Ctrl-C again to quit at once)\n');
    abort.abort(new Error('interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSigint);
  try {
    // The same state file as the lock's (makePlan derives it the same way), so the owner check still knows whether --state was given.
    const p = await makePlan(ctx, options, mode === 'destroy' ? 'destroy' : 'plan', settings, mode);
    try {
      const planJson = planAsJson(p.plan);
      failOnProblems(ctx, p, options.json === true, (error) => printOutcome(ctx, planJson, 'plan-failed', summarize(p.plan), statePath, error));
      if (!hasChanges(p.plan)) {
        // Even without changes the refresh may have dropped objects deleted outside vic.
        writeState(statePath, ownedBy(p.plan.refreshed, statePath, options.file));
        if (options.json) printOutcome(ctx, planJson, 'no-changes', NO_CHANGES, statePath);
        else if (mode === 'destroy') ctx.out(`Nothing to destroy: vSphere no longer holds what the state ${statePath} held; the state is empty now.\n`);
        else ctx.out(renderPlan(p.plan, ctx.styles, 'plan'));
        return EXIT.ok;
      }
      if (!options.json) ctx.out(renderPlan(p.plan, ctx.styles, mode === 'destroy' ? 'destroy' : 'plan'));
      if (!options.autoApprove && !interactive) throw new CliError(cannotAsk, EXIT.usage);
      if (!options.autoApprove) {
        asking = true;
        const ok = await confirm(
          ctx,
          mode === 'destroy' ? '\nDo you really want to destroy all resources of this spec?' : '\nDo you want to perform these actions?',
        ).finally(() => (asking = false));
        if (!ok) {
          ctx.out(mode === 'destroy' ? 'Destroy cancelled.\n' : 'Apply cancelled.\n');
          return EXIT.failure;
        }
      }
      if (abort.signal.aborted) throw new CliError('interrupted before anything was changed', EXIT.failure);
      ctx.out('\n');
      return await runApply(ctx, p, options, planJson, statePath, abort.signal, mode);
    } finally {
      await p.engine.close();
    }
  } finally {
    process.off('SIGINT', onSigint);
    release();
  }
}

async function runApply(
  ctx: CliContext,
  p: Planned,
  options: StackOptions,
  planJson: object,
  statePath: string,
  signal: AbortSignal,
  mode: 'apply' | 'destroy',
): Promise<number> {
  const { applyStack } = await import('../engine');
  const actions = new Map(p.plan.changes.map((c) => [c.address, c.change.action]));
  const total = [...actions.values()].filter((a) => a !== 'no-op').length;
  const quiet = options.json === true;
  const reporter = new ApplyReporter({
    out: quiet ? nullStream() : process.stdout,
    err: process.stderr,
    styles: ctx.styles,
    bars: !quiet && process.stderr.isTTY === true,
    total,
  });
  let latest: StackState = p.plan.refreshed;
  // Each write names the spec as the state's owner (stateOwnerConflict).
  const save = (s: StackState) => writeState(statePath, ownedBy(s, statePath, options.file));
  save(latest);
  try {
    await applyStack(p.engine, p.plan, p.resources, {
      signal,
      command: mode,
      onResourceProgress: (address, e) => reporter.progress(address, e),
      onState: (s) => {
        latest = s;
        save(s);
      },
      onResource: (address, event, detail, applied) => {
        const action = actions.get(address) ?? applied ?? 'update';
        if (event === 'start') reporter.start(address, action);
        else if (event === 'done')
          reporter.finish(address, action, latest.resources[address] ? String(latest.resources[address].attrs.id ?? '') || undefined : undefined);
        else reporter.failed(address, detail ?? '');
      },
    });
  } catch (err) {
    reporter.stop();
    const message = err instanceof Error ? err.message : String(err);
    if (quiet) printOutcome(ctx, planJson, 'failed', summarize(p.plan), statePath, message);
    throw new CliError(`${message}\nThe state in ${statePath} holds what was done; run the same command again to continue.`, EXIT.failure);
  }
  reporter.stop();
  const sum = summarize(p.plan);
  if (quiet) printOutcome(ctx, planJson, 'applied', sum, statePath);
  else
    ctx.out(
      `\n${ctx.styles.green(
        ctx.styles.bold(
          // As Terraform words the end of a destroy.
          mode === 'destroy'
            ? `Destroy complete! Resources: ${sum.destroy} destroyed.`
            : `Apply complete! Resources: ${sum.add} added, ${sum.change} changed, ${sum.destroy} destroyed.`,
        ),
      )}\nState: ${statePath}\n`,
    );
  return EXIT.ok;
}

function nullStream(): NodeJS.WritableStream {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
