/**
 * How the provider tells that the Terraform command that started it is a destroy: from terraform's
 * arguments (table-driven) and from the process tree (a real child process named terraform).
 */
import { spawn } from 'node:child_process';
import { isDestroyCommand, terraformArguments } from '../../provider/destroy-run';

describe('isDestroyCommand', () => {
  it.each<[string, string[], NodeJS.ProcessEnv, boolean]>([
    ['terraform destroy', ['destroy', '-auto-approve'], {}, true],
    ['a global option before destroy', ['-chdir=infra', 'destroy'], {}, true],
    ['plan -destroy', ['plan', '-destroy', '-out=x.tfplan'], {}, true],
    ['apply -destroy', ['apply', '-auto-approve', '-destroy'], {}, true],
    ['plan --destroy=true', ['plan', '--destroy=true'], {}, true],
    ['plan -destroy=false', ['plan', '-destroy=false'], {}, false],
    ['plan -destroy then -destroy=false (the last one counts)', ['plan', '-destroy', '-destroy=false'], {}, false],
    ['a plain plan', ['plan', '-var', 'destroy=true'], {}, false],
    ['a plain apply', ['apply', '-auto-approve'], {}, false],
    ['apply of a saved plan (plans nothing)', ['apply', 'destroy.tfplan'], {}, false],
    ['plan with TF_CLI_ARGS_plan="-destroy"', ['plan'], { TF_CLI_ARGS_plan: '-destroy' }, true],
    ['apply with TF_CLI_ARGS="-input=false -destroy"', ['apply'], { TF_CLI_ARGS: '-input=false -destroy' }, true],
    ['plan with TF_CLI_ARGS_apply="-destroy" (another subcommand)', ['plan'], { TF_CLI_ARGS_apply: '-destroy' }, false],
    ['validate', ['validate'], {}, false],
    ['import', ['import', 'vic_container_vm.web', 'abc'], {}, false],
    ['no subcommand', ['-version'], {}, false],
  ])('GIVEN %s (arguments %j, environment %j) WHEN asked THEN it is a destroy: %s', (_label, args, env, expected) => {
    expect(isDestroyCommand(args, env)).toBe(expected);
  });
});

describe('terraformArguments', () => {
  it.each<[string, string[] | undefined]>([
    ['/opt/tools/terraform', ['30']],
    ['/usr/local/bin/tofu', ['30']],
    ['terraform_1.5.7', ['30']],
    // A provider started by a provider (or by hand) is not the command.
    ['/x/terraform-provider-vic_v0.1.0', undefined],
  ])('GIVEN a process whose program is %s WHEN looked up from its pid THEN its arguments come back: %j', async (program, expected) => {
    const child = spawn('sleep', ['30'], { argv0: program, stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const found = terraformArguments(child.pid);
      // Above the provider-named process come this test runner's ancestors, none of them terraform.
      expect(found).toEqual(expected);
    } finally {
      child.kill();
    }
  });

  it('GIVEN a process tree without terraform (this test runner) WHEN looked up THEN there are none', () => {
    expect(terraformArguments(process.pid)).toBeUndefined();
  });
});
