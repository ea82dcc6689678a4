/**
 * docker exec: a process run in a running container VM beside its own. The endpoint keeps each
 * exec instance (docker's create, start, inspect) in memory; the process itself is asked of the
 * guest through the engine (`exec`), and its output and exit code come back on the container's
 * console under the exec's own frames (docs/guest-config.md, "Input from the hypervisor").
 */
import { randomBytes } from 'node:crypto';
import type { ExecRequest } from '../engine';
import { detachKeysOf } from './input';
import { badRequest } from './protocol';

export interface ExecInstance {
  /** Docker's id: 64 hex digits. */
  readonly id: string;
  /** The id the guest knows it by (the first 16 hex digits): its console frames carry it. */
  readonly guestId: string;
  /** The container's id (containers.ts containerId). */
  readonly containerId: string;
  readonly request: ExecRequest;
  readonly attach: { readonly stdin: boolean; readonly stdout: boolean; readonly stderr: boolean };
  /** With a terminal, the input that detaches the client (`--detach-keys`, Ctrl-P Ctrl-Q by default). */
  readonly detachKeys: Buffer;
  state: 'created' | 'running' | 'exited';
  exitCode: number | null;
}

/** The body of `POST /containers/{id}/exec` (what the CLI's docker exec sends). */
export interface ExecCreateBody {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  Privileged?: boolean;
  DetachKeys?: string;
}

/** The most an exec's command, env, user and working directory may take (one message to the guest). */
const MAX_EXEC_REQUEST_BYTES = 256 * 1024;

/** A new exec instance from the CLI's request; bad input is a 400 naming the flag. */
export function newExec(containerId: string, body: ExecCreateBody): ExecInstance {
  const cmd = body.Cmd ?? [];
  if (cmd.length === 0 || cmd[0] === '') throw badRequest('No exec command specified: docker exec CONTAINER COMMAND [ARG...]');
  if (body.Privileged) throw badRequest('--privileged is not supported by vic-iac: a container VM has no capabilities to add; run the command without it');
  for (const kv of body.Env ?? []) {
    if (!/^[^=\s]+=/.test(kv)) throw badRequest(`-e ${kv}: expected NAME=value`);
  }
  const detachKeys = detachKeysOf(body.DetachKeys);
  const id = randomBytes(32).toString('hex');
  const size = Buffer.byteLength(JSON.stringify({ cmd, env: body.Env ?? [], user: body.User, dir: body.WorkingDir }));
  if (size > MAX_EXEC_REQUEST_BYTES)
    throw badRequest(
      `the exec's command and env take ${size} bytes; at most ${MAX_EXEC_REQUEST_BYTES} go to a container VM: pass larger data as input (-i) or through a volume`,
    );
  const request: ExecRequest = {
    argv: cmd,
    ...(body.Env?.length ? { env: body.Env } : {}),
    ...(body.User ? { user: body.User } : {}),
    ...(body.WorkingDir ? { working_dir: body.WorkingDir } : {}),
    ...(body.Tty ? { tty: true } : {}),
    ...(body.AttachStdin ? { open_stdin: true } : {}),
  };
  return {
    id,
    guestId: id.slice(0, 16),
    containerId,
    request,
    attach: { stdin: body.AttachStdin === true, stdout: body.AttachStdout !== false, stderr: body.AttachStderr !== false },
    detachKeys,
    state: 'created',
    exitCode: null,
  };
}

/** `GET /exec/{id}/json`, the fields the CLI and SDKs read (docker exec's exit code among them). */
export function execInspect(e: ExecInstance): Record<string, unknown> {
  return {
    ID: e.id,
    ContainerID: e.containerId,
    Running: e.state === 'running',
    ExitCode: e.state === 'exited' ? e.exitCode : null,
    OpenStdin: e.attach.stdin,
    OpenStdout: e.attach.stdout,
    OpenStderr: e.attach.stderr,
    CanRemove: false,
    DetachKeys: '',
    Pid: 0,
    ProcessConfig: {
      entrypoint: e.request.argv[0],
      arguments: e.request.argv.slice(1),
      privileged: false,
      tty: e.request.tty === true,
      user: e.request.user ?? '',
    },
  };
}
