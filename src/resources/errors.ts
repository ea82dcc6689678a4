/** An error that carries problems with attribute paths (plan-time checks, refused applies). */
import type { Problem } from './schema';

export class ResourceError extends Error {
  constructor(
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
    this.name = 'ResourceError';
  }
}

/** The VCH a listing or lookup was asked about has no resource pool in vSphere any more (destroyed). */
export class VchGoneError extends ResourceError {
  constructor(readonly vchId: string) {
    super(`virtual container host ${vchId} not found in vSphere: its resource pool is gone (the VCH was destroyed)`);
    this.name = 'VchGoneError';
  }
}

/**
 * Input for a container VM's process, or an exec in it, that cannot reach it: it was made without
 * an open stdin (input), or its tether reads nothing from this hypervisor (under vSphere, not yet;
 * under the embedded simulator, it does).
 */
export class InputUnreachableError extends ResourceError {
  constructor(
    readonly container: string,
    readonly what: 'input' | 'exec',
  ) {
    super(
      what === 'input'
        ? `input cannot reach the process of container VM "${container}": it was made without an open stdin (docker -i, stdin_open), or its guest takes no input from this hypervisor (the embedded simulator's guests do; on vSphere the tether does not read input yet); pass input through the command, env or a volume`
        : `exec cannot reach container VM "${container}": its guest takes no requests from this hypervisor (the embedded simulator's guests do; on vSphere the tether does not read them yet); run the command as the container's own (docker run), or read its output with docker logs`,
    );
    this.name = 'InputUnreachableError';
  }
}

/** A container VM whose process does not run (not started, ended, its guest still booting). */
export class NotRunningError extends ResourceError {
  constructor(readonly container: string) {
    super(`container VM "${container}" runs no process: it is not running, or its guest has not started it yet`);
    this.name = 'NotRunningError';
  }
}

/**
 * A delete refused because something still uses the object (a container VM on an image, a VM with
 * the volume attached): the message names the users. Front ends tell it apart (docker's 409 Conflict).
 */
export class InUseError extends ResourceError {
  constructor(message: string) {
    super(message);
    this.name = 'InUseError';
  }
}

/** The registry refused the credentials of a login check (docker login: Engine.verifyRegistryLogin). */
export class RegistryLoginRefused extends Error {
  constructor(readonly host: string) {
    super(`registry ${host} refused the credentials`);
    this.name = 'RegistryLoginRefused';
  }
}
