/**
 * Typed vSphere errors.
 *
 * Every SOAP fault becomes a `VimFault` (or a subclass chosen by the fault's vim25 type name), so
 * callers branch on meaning (`isNotFound(err)`) instead of parsing messages. Every error names the
 * SOAP method and the managed object (`_this`) it was raised for.
 *
 * Only `TransientError` is ever retried (see retry.ts). Only `NotFoundError` may make the engine
 * drop a resource from state: any other failure of a read means "unknown", never "gone".
 */
import type { ManagedObjectReference } from './xml';

/** Formats a managed object reference for messages: `VirtualMachine:vm-42`. */
export function formatMoRef(ref: ManagedObjectReference | undefined): string {
  return ref ? `${ref.type}:${ref.value}` : '(none)';
}

export interface VimFaultInit {
  /** vim25 fault type name without the `Fault` element suffix, e.g. `ManagedObjectNotFound`. */
  readonly faultName: string;
  /** The SOAP method that failed, e.g. `PowerOnVM_Task`. */
  readonly method: string;
  /** The object the method was invoked on (`_this`). */
  readonly object?: ManagedObjectReference;
  /** The server's faultstring or localizedMessage; vcsim often sends none. */
  readonly serverMessage?: string;
  /** The decoded fault detail (its fields, e.g. `obj`, `name`, `existingState`). */
  readonly detail?: Record<string, unknown>;
  readonly cause?: unknown;
}

const VIM_FAULT = Symbol.for('vic-iac.vsphere.VimFault');

/** A fault raised by vSphere (or the transport) for one SOAP call. */
export class VimFault extends Error {
  readonly faultName: string;
  readonly method: string;
  readonly object?: ManagedObjectReference;
  readonly serverMessage?: string;
  readonly detail: Record<string, unknown>;

  constructor(init: VimFaultInit, message?: string) {
    super(message ?? defaultMessage(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.faultName = init.faultName;
    this.method = init.method;
    this.object = init.object;
    this.serverMessage = init.serverMessage;
    this.detail = init.detail ?? {};
    Object.defineProperty(this, VIM_FAULT, { value: true });
  }

  /** Brand check that survives duplicate module copies (unlike instanceof). */
  static isVimFault(err: unknown): err is VimFault {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[VIM_FAULT] === true;
  }
}

function defaultMessage(init: VimFaultInit): string {
  const on = init.object ? ` on ${formatMoRef(init.object)}` : '';
  const detail = init.serverMessage && init.serverMessage !== init.faultName ? `: ${init.serverMessage}` : '';
  return `${init.method}${on} failed with ${init.faultName}${detail}`;
}

/** ManagedObjectNotFound, NotFound, FileNotFound: the object or file does not exist (any more). */
export class NotFoundError extends VimFault {}
/** An object with this name already exists in the parent. */
export class DuplicateNameError extends VimFault {}
/** InvalidArgument (and its relatives): the request itself is wrong; retrying cannot help. */
export class InvalidArgumentError extends VimFault {}
/** The object is still in use (e.g. a datastore with VMs, an image disk a VM still uses). */
export class ResourceInUseError extends VimFault {}
/** The VM is in the wrong power state for the operation. */
export class InvalidPowerStateError extends VimFault {}
/** The session is not (or no longer) valid. The client re-logs in once before surfacing this. */
export class NotAuthenticatedError extends VimFault {}
/** Wrong user name or password. */
export class InvalidLoginError extends VimFault {}
/** A file or directory already exists at the target path. */
export class FileAlreadyExistsError extends VimFault {}

/** A vSphere task ended in `error`. `faultName` is the task's fault, e.g. `InsufficientResourcesFault`. */
export class TaskFailedError extends VimFault {
  readonly task: ManagedObjectReference;
  readonly entity?: ManagedObjectReference;
  readonly entityName?: string;

  constructor(
    init: VimFaultInit & {
      task: ManagedObjectReference;
      entity?: ManagedObjectReference;
      entityName?: string;
    },
  ) {
    const target = init.entity
      ? ` on ${formatMoRef(init.entity)}${init.entityName && init.entityName !== init.entity.value ? ` ("${init.entityName}")` : ''}`
      : '';
    const text = init.serverMessage && !/^\*types\./.test(init.serverMessage) ? `: ${init.serverMessage}` : '';
    super(init, `task ${init.task.value} (${init.method})${target} failed with ${init.faultName}${text}`);
    this.task = init.task;
    this.entity = init.entity;
    this.entityName = init.entityName;
  }
}

/**
 * A failure that may succeed when tried again: HTTP 502/503/504, a connection reset or refused
 * after we had connected, a socket hang up, a timeout. `cause` holds the underlying error.
 */
export class TransientError extends VimFault {}

/** Errors of the TLS handshake: a thumbprint mismatch or an unverified certificate. Never retried. */
export class TlsVerificationError extends VimFault {}

const FAULT_CLASSES: ReadonlyArray<[ReadonlyArray<string>, new (init: VimFaultInit) => VimFault]> = [
  [['ManagedObjectNotFound', 'NotFound', 'FileNotFound'], NotFoundError],
  [['DuplicateName'], DuplicateNameError],
  [
    ['InvalidArgument', 'InvalidRequest', 'InvalidDeviceSpec', 'InvalidVmConfig', 'InvalidDatastorePath', 'InvalidDatastore', 'InvalidName', 'InvalidProperty'],
    InvalidArgumentError,
  ],
  [['ResourceInUse'], ResourceInUseError],
  [['InvalidPowerState'], InvalidPowerStateError],
  [['NotAuthenticated'], NotAuthenticatedError],
  [['InvalidLogin'], InvalidLoginError],
  [['FileAlreadyExists'], FileAlreadyExistsError],
];

/** Builds the typed error for a vim25 fault type name (the xsi:type, e.g. `ManagedObjectNotFound`). */
export function faultFromName(init: VimFaultInit): VimFault {
  for (const [names, ErrorClass] of FAULT_CLASSES) {
    if (names.includes(init.faultName)) return new ErrorClass(init);
  }
  return new VimFault(init);
}

/**
 * The fault type from a detail element name when the element carries no xsi:type: SOAP wraps a
 * fault of type X in an element named `XFault` (so InsufficientResourcesFault arrives as
 * `InsufficientResourcesFaultFault`).
 */
export function faultNameFromElement(elementName: string): string {
  return elementName.endsWith('Fault') && elementName.length > 5 ? elementName.slice(0, -5) : elementName;
}

export function isVimFault(err: unknown): err is VimFault {
  return VimFault.isVimFault(err);
}
/** True when `err` is of `ErrorClass`, or a failed task whose fault maps to that class. */
function isKind(err: unknown, ErrorClass: abstract new (...args: never[]) => VimFault): boolean {
  if (err instanceof ErrorClass) return true;
  if (!(err instanceof TaskFailedError)) return false;
  return FAULT_CLASSES.some(([names, mapped]) => mapped === ErrorClass && names.includes(err.faultName));
}

/**
 * The object is gone (ManagedObjectNotFound, NotFound, FileNotFound), whether raised by a call
 * or by a task. The only error that may remove a resource from state.
 */
export function isNotFound(err: unknown): err is VimFault {
  return isKind(err, NotFoundError);
}
/** For `.catch()` after a removal or a lookup: an object already gone is no error (undefined). */
export function ignoreNotFound(err: unknown): Promise<undefined> {
  return isNotFound(err) ? Promise.resolve(undefined) : Promise.reject(err);
}
export function isDuplicateName(err: unknown): err is VimFault {
  return isKind(err, DuplicateNameError);
}
export function isInvalidArgument(err: unknown): err is VimFault {
  return isKind(err, InvalidArgumentError);
}
export function isResourceInUse(err: unknown): err is VimFault {
  return isKind(err, ResourceInUseError);
}
export function isInvalidPowerState(err: unknown): err is VimFault {
  return isKind(err, InvalidPowerStateError);
}
export function isFileAlreadyExists(err: unknown): err is VimFault {
  return isKind(err, FileAlreadyExistsError);
}
export function isNotAuthenticated(err: unknown): err is NotAuthenticatedError {
  return err instanceof NotAuthenticatedError;
}
export function isInvalidLogin(err: unknown): err is InvalidLoginError {
  return err instanceof InvalidLoginError;
}
export function isTaskFailed(err: unknown): err is TaskFailedError {
  return err instanceof TaskFailedError;
}
export function isTransient(err: unknown): err is TransientError {
  return err instanceof TransientError;
}
/** True when the error is the given vim25 fault, directly or as a failed task's fault. */
export function isFault(err: unknown, faultName: string): boolean {
  return isVimFault(err) && err.faultName === faultName;
}
