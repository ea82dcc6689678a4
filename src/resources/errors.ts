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
 * Input for a container VM's process that cannot reach it: it was made without an open stdin, or
 * its tether reads no input from this hypervisor (under vSphere, not yet; under the embedded
 * simulator, it does).
 */
export class InputUnreachableError extends ResourceError {
  constructor(readonly container: string) {
    super(
      `input cannot reach the process of container VM "${container}": it was made without an open stdin (docker -i, stdin_open), or its guest takes no input from this hypervisor (the embedded simulator's guests do; on vSphere the tether does not read input yet); pass input through the command, env or a volume`,
    );
    this.name = 'InputUnreachableError';
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
