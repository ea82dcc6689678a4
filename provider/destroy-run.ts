/**
 * Whether the Terraform (or OpenTofu) command that started this provider is a destroy.
 *
 * Terraform begins `terraform destroy`, `terraform plan -destroy` and `terraform apply -destroy`
 * with a normal plan of the configuration (its "pre-destroy refresh", internal/terraform/
 * context_plan.go destroyPlan), and any error of that plan ends the destroy. Each walk runs in a
 * fresh provider process and no RPC says which walk it is, so the provider reads the command line
 * of the terraform process that started it (go-plugin starts a provider as its direct child).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Terraform's own words split like a shell would (TF_CLI_ARGS), enough for flags and paths. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** Go's strconv.ParseBool, which Terraform's flag parsing uses for `-destroy=<value>`. */
function goBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

/**
 * Whether `args` (terraform's arguments without the program) run a destroy: the `destroy`
 * subcommand, or `plan`/`apply` with `-destroy`, on the command line or in TF_CLI_ARGS and
 * TF_CLI_ARGS_<subcommand> (which Terraform appends to the subcommand's arguments).
 */
export function isDestroyCommand(args: readonly string[], env: NodeJS.ProcessEnv = {}): boolean {
  // Global options (-chdir=DIR) come before the subcommand.
  const at = args.findIndex((a) => !a.startsWith('-'));
  if (at < 0) return false;
  const subcommand = args[at];
  if (subcommand === 'destroy') return true;
  if (subcommand !== 'plan' && subcommand !== 'apply') return false;
  const words = [...args.slice(at + 1), ...shellWords(env.TF_CLI_ARGS ?? ''), ...shellWords(env[`TF_CLI_ARGS_${subcommand}`] ?? '')];
  let destroy = false;
  for (const word of words) {
    const m = /^--?destroy(?:=(.*))?$/.exec(word);
    if (m) destroy = m[1] === undefined ? true : (goBool(m[1]) ?? destroy);
  }
  return destroy;
}

interface ProcessInfo {
  readonly ppid: number;
  readonly argv: string[];
}

function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, argv };
  } catch {
    // No procfs (macOS, the BSDs): ps, whose args column loses the quoting of arguments with spaces.
    if (process.platform === 'win32') return undefined;
    try {
      const out = execFileSync('ps', ['-o', 'ppid=', '-o', 'args=', '-p', String(pid)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 2000,
      });
      const m = /^\s*(\d+)\s+(.*)$/.exec(out.trim());
      return m ? { ppid: Number(m[1]), argv: m[2].split(/\s+/) } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** terraform, tofu, terraform.exe, terraform_1.5.7 and the like; not a provider (terraform-provider-*). */
function isTerraformProgram(program: string): boolean {
  const name = basename(program).toLowerCase();
  return /^(terraform|tofu|opentofu)([._\d-]|$)/.test(name) && !name.startsWith('terraform-provider-');
}

/**
 * The arguments of the nearest terraform/tofu process among this process's ancestors (a launcher
 * script that does not exec may sit in between), or undefined when there is none.
 */
export function terraformArguments(startPid: number = process.ppid): string[] | undefined {
  let pid = startPid;
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    const info = processInfo(pid);
    if (!info || info.argv.length === 0) return undefined;
    if (isTerraformProgram(info.argv[0])) return info.argv.slice(1);
    pid = info.ppid;
  }
  return undefined;
}

/** Whether this provider process serves a Terraform destroy (see the file comment). */
export function startedByDestroy(env: NodeJS.ProcessEnv = process.env): boolean {
  const args = terraformArguments();
  return args !== undefined && isDestroyCommand(args, env);
}
