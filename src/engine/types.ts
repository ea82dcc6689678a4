/**
 * The engine's contract with the front ends (Terraform provider, Pulumi, CLI, Docker endpoint).
 * Front ends translate to and from these shapes; they decide nothing themselves.
 */
import { AttrPath, Attrs, Problem, ResourceType, Validated, Value } from '../resources';
import type { VmUsage } from '../resources/vm-usage';
import type { PoolCapacity } from '../resources/pool-capacity';
import type { ExecRequest, HandedOn, KeptFile, LoadedImage, LookupKey, MaintenanceOp, SaveAccess } from '../resources/lifecycle';
import type { Writable } from 'node:stream';
import type { ManagedInventory } from '../resources/managed-inventory';
import type { PushOptions, PushResult } from '../images/push';
import type { CommitImageOptions } from '../images/commit';
import type { LoadImagesOptions } from '../images/load';

export type { LookupKey, ManagedInventory };
export { HandedOn, HANDED_ON_MS } from '../resources/lifecycle';
export type { ArchiveRequest, ExecRequest, KeptFile, LoadedImage, MaintenanceOp, SaveAccess } from '../resources/lifecycle';
export type { PushEvent, PushOptions, PushResult } from '../images/push';
export type { CommitImageOptions } from '../images/commit';
export type { LoadImagesOptions } from '../images/load';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

export interface AttributeChange {
  readonly path: AttrPath;
  readonly before: Value | undefined;
  readonly after: Value | undefined;
  /** True when this change alone forces a replacement. */
  readonly forceNew: boolean;
  /**
   * True when applying it changes only the state: the new value names the same vSphere object (a
   * tag for the digest the state pins, the default datacenter by name), or vSphere does not hold
   * the attribute (Attribute.configOnly).
   */
  readonly stateOnly?: boolean;
}

export interface PlannedChange {
  readonly type: ResourceType;
  readonly action: Action;
  readonly prior: Attrs | null;
  /** The state expected after apply; computed attributes not yet known are UNKNOWN. */
  readonly planned: Attrs | null;
  readonly changes: readonly AttributeChange[];
  /** Attribute paths whose change forces replacement (Terraform's requires_replace). */
  readonly requiresReplace: readonly AttrPath[];
  /** Human reasons, e.g. 'image_id changed (forces replacement)', 'VM powered off outside (drift)'. */
  readonly reasons: readonly string[];
  /** Warnings worth showing with the plan, e.g. 'changing cpus powers the VM off and on again'. */
  readonly notes: readonly string[];
  /** Problems found at plan time (validation, missing vSphere objects). Non-empty errors = do not apply. */
  readonly problems: readonly Problem[];
  /**
   * A replacement whose new object can exist next to the old one (the declaration's replaceOrder,
   * and a new `id`): the new one is made first, the old one deleted once nothing uses it.
   */
  readonly createBeforeDestroy?: boolean;
  /** Who claimed the object's identity at plan time (see PlanOptions.owner). */
  readonly owner?: string;
  /** The resource a create is for (PlanOptions.createdFor). */
  readonly createdFor?: string;
  /** An update whose every change is state-only (AttributeChange.stateOnly): nothing in vSphere would change. */
  readonly stateOnly?: boolean;
}

export interface PlanOptions {
  /**
   * Who this resource is, as the front end can tell: a stack address, a Pulumi resource name. Two
   * owners planning the same identity (a container VM's VCH and name) in one command are refused.
   * Without it, a resource is known by its prior id, and each create is its own owner.
   */
  readonly owner?: string;
  /** How messages name the owner (e.g. `container_vm.web`). */
  readonly label?: string;
  /**
   * A create (no prior) that is the second plan of a replacement the front end planned first with
   * the prior state whose id this is (Terraform does that): it takes over that object's claim.
   */
  readonly replaces?: string;
  /**
   * A create checked before the front end knows whether it replaces an object of its own that still
   * exists (Pulumi checks a replacement again as a create, before deleting the old one): the plan
   * checks what the config refers to (registry, datastore, networks, the VCH...), but not whether
   * its identity is free, and claims nothing. What the replaced object would free is unknown too, so
   * capacity is left to the plan of the apply, which checks everything.
   */
  readonly referencesOnly?: boolean;
  /**
   * The plan of a create about to be made, in a front end that checks each resource as it comes
   * (Pulumi): refused when another resource was refused for the object this one claimed first,
   * since that other one may be the resource that exists already (ObjectClaims.claim).
   */
  readonly createsNow?: boolean;
  /**
   * The resource a create is for, in words that stay the same across commands (Pulumi's project,
   * stack and resource name): written on what the create makes (a volume's marker), so that a later
   * create (LifecycleContext.createsNow) tells its own resource's create-first replacement, which
   * takes the object over, from another state's, which is refused.
   */
  readonly createdFor?: string;
  /**
   * What validating this very configuration gave (`validateAttrs` of the same schema), when the
   * front end has just done it: Terraform validates each resource's configuration right before it
   * plans it, and the plan would do it again.
   */
  readonly validated?: Validated;
}

export interface ProgressEvent {
  readonly type: ResourceType;
  readonly name: string;
  readonly phase: string;
  readonly current?: number;
  readonly total?: number;
  readonly message?: string;
}

/** Something the apply did differently from what its plan said, and why (the front end shows it as a warning). */
export interface ApplyWarning {
  readonly summary: string;
  readonly detail: string;
}

export interface ApplyOptions {
  readonly onProgress?: (e: ProgressEvent) => void;
  readonly onWarning?: (w: ApplyWarning) => void;
  readonly signal?: AbortSignal;
  /**
   * The front end applies one run through this engine (a `terraform apply`, a `pulumi up`), in
   * which each resource is created or deleted once. A delete of an object that a create of the run
   * made or adopted then belongs to a replacement created first under the same identity
   * (create_before_destroy, `pulumi up --replace`), and leaves the object to it
   * (ResourceDeclaration.objectKey). Off, only the delete of a replacement the engine itself orders
   * create-first is checked so.
   */
  readonly oneRun?: boolean;
}

export interface ReadRequest {
  readonly type: ResourceType;
  /** The prior state (at least `id`); the result keeps user-only inputs from it. */
  readonly state: Attrs;
}

export interface CommandOptions {
  readonly lookups?: 'batched' | 'each';
  /**
   * Where the lookups the resources mark lasting (LASTING_MEMOS: a VCH's marker, a network's
   * backing, a content-addressed image's metadata) are kept across commands, for a front end that
   * serves many short commands (the Docker endpoint): pass the same map to every forCommand. Its
   * owner clears it when vSphere refuses a change made with what it holds, and tries once more.
   */
  readonly lasting?: Map<string, Promise<unknown>>;
  /**
   * Rows a change hands on to a later command over the same object, for a front end that serves
   * many short commands (the Docker endpoint): pass the same store to every forCommand. The VM a
   * create just made is one: the start that follows it, a command that `takesHandedOn`, powers it
   * on without reading it first: a power-on vSphere refuses (the VM was powered on in between) is
   * followed by a read, one of a VM gone fails and the front end looks the object up again. Any
   * other command that looks the VM up drops the row.
   */
  readonly handedOn?: HandedOn;
  /** This command answers its lookup of an object from a row handed on to it (see handedOn). */
  readonly takesHandedOn?: boolean;
  /**
   * Whom the command's changes are for (LifecycleContext.forDocker): `docker` for the Docker
   * endpoint's, whose image names docker may remove again; by default an IaC state's, whose names
   * docker may not remove.
   */
  readonly holder?: 'docker';
  /** Exec and input go to the guest of the maintenance boot with this token (Engine.maintenance). */
  readonly maintenance?: string;
}

export interface Engine {
  /**
   * The front end's state holds `state` in this command (Terraform tells of each entry as it reads
   * it). A create that meets that object while no other resource claims it is planned as its
   * replacement (Terraform plans a tainted resource as a create).
   */
  inState(type: ResourceType, state: Attrs): void;
  /** Schema validation only: no vSphere calls. Every problem, each with its attribute path. */
  validate(type: ResourceType, config: Attrs): Problem[];
  /** Desired (config) versus observed (prior, as refreshed) → one change with its reasons. */
  plan(type: ResourceType, prior: Attrs | null, config: Attrs | null, options?: PlanOptions): Promise<PlannedChange>;
  /** Carries a planned change out; returns the new state (null after delete). */
  apply(change: PlannedChange, opts?: ApplyOptions): Promise<Attrs | null>;
  /**
   * The duplicate problem another resource of this command met for the object of `state` (two
   * references of one image digest), or undefined. A front end that creates while it still plans
   * (Pulumi) asks it once a create returns: a twin refused meanwhile means the create must be undone.
   */
  contestedObject(type: ResourceType, state: Attrs): Problem | undefined;
  /** Batched refresh: one property-collector round trip for all requests; null = gone. */
  read(requests: readonly ReadRequest[]): Promise<(Attrs | null)[]>;
  /** Import by MOID, inventory path or UUID (container_vm), or `<vch_id>/<digest>` (image). */
  importState(type: ResourceType, id: string): Promise<Attrs>;
  /** Everything vic-iac made that vSphere holds (VCHs, images in use, container VMs), by markers. */
  inventory(): Promise<ManagedInventory>;
  /**
   * Bytes of a container VM's console file (`vm_path` of its state) from byte `from` on, over
   * datastore HTTP; `size` is where the next read starts. Parse with `OutputLineReader`. A VM that
   * never ran has no console file yet: that reads as empty.
   */
  readContainerConsole(datacenter: string, vmPath: string, from: number): Promise<{ data: Buffer; size: number }>;
  /**
   * What the container VM `moid` uses now (quick stats: CPU MHz, active memory, uptime) and may use,
   * in one round trip; `docker stats` is built on it. null when the VM is gone.
   */
  readContainerUsage(moid: string): Promise<VmUsage | null>;
  /** What the VCH's resource pool can give its container VMs (docker info); null when the pool is gone. */
  readPoolCapacity(vchId: string): Promise<PoolCapacity | null>;
  /** Data sources: look an existing object up. */
  readDataSource(type: ResourceType, config: Attrs): Promise<Attrs>;
  /**
   * Every object of `type` that the VCH `vchId` holds: images in its store (each as `importState`
   * reads it, `created` (RFC 3339) added), container VMs in its pool (one batched read, as a refresh).
   */
  listIn(type: ResourceType, vchId: string): Promise<Attrs[]>;
  /**
   * The object of `type` the VCH holds under a name or an id, looked up without listing the VCH
   * (its cost does not grow with what the VCH holds); null when there is none. As `listIn` reads it.
   */
  findIn(type: ResourceType, vchId: string, key: LookupKey): Promise<Attrs | null>;
  /**
   * The id an object of `type` made now under `name` in the VCH takes (a container VM's BIOS UUID),
   * by the lookups its create makes in this command: the Docker endpoint names a container's host
   * after its id before the create.
   */
  idFor(type: ResourceType, vchId: string, name: string): Promise<string>;
  /**
   * The object of state `prior` under a new name, its id kept (the Docker endpoint's rename); the
   * new state. Refused for types that cannot be renamed in place.
   */
  rename(type: ResourceType, prior: Attrs, newName: string): Promise<Attrs>;
  /**
   * Another name that holds the object of state `prior` too (`docker tag`): the state under that
   * name. Refused for types whose objects have one name.
   */
  addName(type: ResourceType, prior: Attrs, name: string): Promise<Attrs>;
  /**
   * Sends a signal (Linux number) to the process the object of state `prior` runs (docker stop and
   * kill -s); returns once vSphere holds the request, not when the process took it. A stop's
   * (`stop`: docker stop) also keeps the restart policy from running the process again.
   */
  signal(type: ResourceType, prior: Attrs, signal: number, stop?: boolean): Promise<void>;
  /**
   * Input for the process the object of state `prior` runs (its stdin: docker attach, run -i), or
   * with `exec` for that exec's, in order, then its end when `eof`; returns once vSphere holds it.
   * Refused when the process runs no more (`NotRunningError`), or its input cannot reach it
   * (`InputUnreachableError`).
   */
  input(type: ResourceType, prior: Attrs, data: Buffer, eof: boolean, exec?: string): Promise<void>;
  /**
   * The size of the terminal of the process the object of state `prior` runs (docker's resize), or
   * with `exec` that exec's, in order with its input; refused as input is.
   */
  resize(type: ResourceType, prior: Attrs, rows: number, cols: number, exec?: string): Promise<void>;
  /**
   * Runs another process beside the one the object of state `prior` runs (docker exec), under `id`
   * (hex): its output and exit code come on the console (`OutputLineReader` with that id). Returns
   * once vSphere holds the request; refused as `input` is.
   */
  exec(type: ResourceType, prior: Attrs, id: string, request: ExecRequest): Promise<void>;
  /**
   * A step of a maintenance boot of the stopped object of state `prior` (MaintenanceOp: docker cp
   * of a stopped container), under `token`: exec and input of a command made with `maintenance:
   * token` reach its guest. `begin` is refused where the guest cannot serve one
   * (`InputUnreachableError`); `alive` answers whether its guest still serves it.
   */
  maintenance(type: ResourceType, prior: Attrs, token: string, op: MaintenanceOp): Promise<boolean>;
  /**
   * A file kept with an object: an image's listing of its files, or its config (KeptFile); null for
   * one stored before such files were kept.
   */
  keptFile(type: ResourceType, prior: Attrs, file: KeptFile): Promise<Buffer | null>;
  /**
   * docker commit: a new image of a container's files (`options.tarPath`, the tar docker export
   * writes) in VCH `vchId`'s image store, under `options.name`: the image as listIn lists it.
   */
  commitImage(vchId: string, options: CommitImageOptions): Promise<Attrs>;
  /**
   * docker load: the images of an archive docker save wrote (`options.archive`, a plain tar), in VCH
   * `vchId`'s image store under the names they carry: each as listIn lists it, with those names.
   */
  loadImages(vchId: string, options: LoadImagesOptions): Promise<LoadedImage[]>;
  /**
   * docker save: stored images (each under its names; `sources`, the names a registry may serve it
   * under) as one archive written to `out`
   * (src/images/save.ts); `onStarted` runs once every image was found readable, before the first byte.
   */
  saveImages(
    images: ReadonlyArray<{ image: Attrs; names: readonly string[]; sources: readonly string[] }>,
    out: Writable,
    access: SaveAccess,
    onStarted?: () => void,
  ): Promise<void>;
  /**
   * Whether registry `host` takes the credentials (docker login), reached as a pull reaches it
   * (`insecure`: its certificate unverified, or plain HTTP): RegistryLoginRefused when it refuses them.
   */
  verifyRegistryLogin(host: string, credentials: { username: string; password: string }, insecure: boolean): Promise<void>;
  /**
   * docker push of a stored image: its manifest and layers copied to `target`, byte for byte
   * (src/images/push.ts), from `image`'s store when it was made there (docker commit), else from a
   * registry that serves them (one of `sources`, the image's names).
   */
  pushImage(options: PushOptions, image?: Attrs): Promise<PushResult>;
  /**
   * A new engine on this one's vSphere session, with memos and identity claims of its own: a
   * long-running front end (the Docker endpoint) runs each request as one command, so what others
   * changed in vSphere meanwhile is read again. Closing it leaves the session open. `lookups:
   * 'each'` for a command over one object: its plans look identities up per object instead of
   * reading the whole VCH pool (see LifecycleContext.lookups).
   */
  forCommand(options?: CommandOptions): Engine;
  close(): Promise<void>;
}

/** The one error type of engine and resources: problems with attribute paths (plan-time checks, refused applies). */
export { InUseError, InputUnreachableError, NotRunningError, RegistryLoginRefused, ResourceError, VchGoneError } from '../resources/errors';
