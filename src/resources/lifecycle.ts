/**
 * The vSphere half of a resource: how it is checked at plan time, read from the batched snapshot,
 * created, updated, deleted and imported. Only the engine calls these.
 */
import type { Writable } from 'node:stream';
import type { CommitImageOptions, LoadImagesOptions, PushOptions, PushResult } from '../images';
import type { VimClient } from '../vsphere';
import type { ResourceDeclaration } from './definition';
import type { AttrPath, Attrs, Problem } from './schema';
import type { InventorySnapshot } from './snapshot';

/**
 * A process to run in a running container VM, beside its own (docker exec); what it leaves out
 * comes from the container's config. With `archive` and no command, the guest itself reads or
 * writes the container's files instead (docker cp; docs/guest-config.md, "Input from the hypervisor").
 */
export interface ExecRequest {
  readonly argv: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
  readonly working_dir?: string;
  readonly tty?: boolean;
  readonly open_stdin?: boolean;
  readonly archive?: ArchiveRequest;
  /** Instead of a process: the guest lists the container's (docker top), `ps -ef`'s columns as JSON `{Titles, Processes}` on stdout. */
  readonly processes?: boolean;
  /** Instead of a process: the guest lists the container's root filesystem (docker diff), gzip-compressed JSON lines on stdout. */
  readonly files?: boolean;
}

/**
 * docker cp in the guest: `stat` writes the path's stat (JSON) on the exec's stdout, `get` that
 * stat's line and then a tar of the path, `put` extracts the tar sent as the exec's input into the
 * directory at the path. It exits 0, or 2 (no such path), 3 (refused: not a directory, a directory
 * and a file that would replace each other, not a tar) or 1, saying why on stderr.
 */
export interface ArchiveRequest {
  readonly op: 'stat' | 'get' | 'put';
  readonly path: string;
  readonly no_overwrite_dir_non_dir?: boolean;
  readonly copy_uid_gid?: boolean;
  /** A `get` that stays on the path's filesystem: what is mounted below it comes as its empty mount point (docker export). */
  readonly one_filesystem?: boolean;
}

/**
 * The steps of a maintenance boot (docker cp of a stopped container; guest-config.md, "Maintenance
 * boot"): `begin` powers the stopped VM on for its guest to mount its disks and run no process, and
 * resolves once that guest takes exec requests under the token; `alive` says whether it still does;
 * `end` asks it to end and powers it off. The container reads as stopped throughout.
 */
export type MaintenanceOp = 'begin' | 'alive' | 'end';

/** Memo keys with this prefix hold what any change may outdate: the engine drops them on every apply. */
export const VOLATILE = 'volatile:';

/**
 * Memo keys (prefixes) whose lookups stay true until vSphere refuses what they found: a VCH's marker
 * (which the VCH's own changes forget), a network's backing, a complete content-addressed image's
 * metadata (whose disk each command still looks for), the key of vic-iac's custom field. A front end
 * that serves many short commands keeps them across its commands (CommandOptions.lasting); a refusal
 * makes it drop them and look again.
 */
export const LASTING_MEMOS: readonly string[] = ['vch:', 'network:', 'image-metadata:', 'datacenter-of:', 'container-vm:created-field'];

export function isLastingMemo(key: string): boolean {
  return LASTING_MEMOS.some((prefix) => key.startsWith(prefix));
}

/**
 * A VM row a lookup just read, handed to the change that follows it in the same command (the
 * update of a `docker start` after its lookup): the change reads the VM once, not twice.
 */
export function handedRowKey(moid: string): string {
  return `handed-row:${moid}`;
}

/** How long a row handed on from one command stays usable by the next (HandedOn's default). */
export const HANDED_ON_MS = 5_000;

/**
 * Rows one command's change hands on to a later command over the same object, for a front end that
 * serves many short commands (CommandOptions.handedOn): the VM a `docker create` just made, for the
 * `docker start` that follows it. Each row is taken once, and only while younger than `windowMs`;
 * what was handed on is not proof of what vSphere holds now, so whoever uses a row reads the object
 * again when vSphere refuses what was done with it.
 */
export class HandedOn {
  private readonly rows = new Map<string, { readonly value: unknown; readonly at: number }>();

  constructor(readonly windowMs: number = HANDED_ON_MS) {}

  put(key: string, value: unknown): void {
    const now = Date.now();
    for (const [k, { at }] of this.rows) if (now - at > this.windowMs) this.rows.delete(k);
    this.rows.set(key, { value, at: now });
  }

  /** The row under `key` while it is young enough; gone after this, whatever its age. */
  take<T>(key: string): T | undefined {
    const row = this.rows.get(key);
    this.rows.delete(key);
    return row && Date.now() - row.at <= this.windowMs ? (row.value as T) : undefined;
  }
}

export interface LifecycleContext {
  readonly client: VimClient;
  /** The provider-level default datacenter, if any. */
  readonly datacenter?: string;
  readonly signal?: AbortSignal;
  /**
   * The token of a maintenance boot this command's exec and input go to (MaintenanceOp): its guest
   * runs no process, and takes them while it says it serves that boot.
   */
  readonly maintenance?: string;
  /** The local bootstrap ISO to upload into VCHs that name none (see bootstrap-iso.ts). */
  readonly bootstrapIsoFile?: string;
  /**
   * Per-engine memo for lookups that do not change while one front-end process runs (a VCH's
   * marker, a content-addressed image's metadata, a network's backing, who holds which BIOS UUID in
   * a VCH pool): an apply over many VMs asks vSphere once. Every front end uses an engine per
   * command, so a memo is as old as the command; what others change meanwhile is met at apply time.
   * Failures are not kept. `forget` drops keys by prefix after the engine changes them.
   */
  readonly memo: <T>(key: string, lookup: () => Promise<T>) => Promise<T>;
  readonly forget: (prefix: string) => void;
  /**
   * In a change, the answer to the VOLATILE memo `key` that the plan of this command got less than
   * a second ago, with no change by this command since (every change drops those memos); undefined
   * otherwise. For a lookup the change would otherwise repeat at once: the create right after its
   * plan, as the Docker endpoint runs them. What it proves is as old as the answer.
   */
  readonly planAnswer: <T>(key: string) => Promise<T> | undefined;
  /**
   * Hands a value read by a lookup to the next change of this command (`take` returns it once);
   * an apply drops what nobody took, so a later command never sees it.
   */
  readonly hand: (key: string, value: unknown) => void;
  readonly take: <T>(key: string) => T | undefined;
  /**
   * Hands a row this change left to a later command over the same object (CommandOptions.handedOn);
   * does nothing in a command without that store. `takeHandedOn` gives it back once, in a command
   * that takes such rows (CommandOptions.takesHandedOn) and while it is young; any other command
   * that looks the object up only drops it, since it may change the object next. Keys as `hand`'s.
   */
  readonly handOn: (key: string, value: unknown) => void;
  readonly takeHandedOn: <T>(key: string) => T | undefined;
  /**
   * Objects this command's plan will make (a replaced image's new digest, say), by a key the
   * resources agree on: the plan of a resource that uses one does not look for it in vSphere yet.
   */
  readonly expect: (key: string) => void;
  readonly expected: (key: string) => boolean;
  /**
   * In the plan of a create, the prior state of the object it replaces, when the front end plans a
   * replacement a second time as a create (Terraform does): that object is deleted first.
   */
  readonly replacing?: Attrs;
  /**
   * Check only what the config refers to (PlanOptions.referencesOnly): the create may replace an
   * object of the front end's that still exists, so who holds its identity, and the capacity the
   * old object would free, are checked by the plan of the apply.
   */
  readonly referencesOnly?: boolean;
  /**
   * The plan of a create about to be made by a front end that does not say whether it replaces an
   * object of its own (Pulumi's create: an `up --replace` creates the new object first, and tells
   * nothing of the old one). A check that refuses an existing object its create would take over,
   * where the replacement must take it over (a volume), cannot tell the two apart, and leaves it be.
   */
  readonly createsNow?: boolean;
  /**
   * The command works for the Docker endpoint (CommandOptions.holder), not for an IaC state: an
   * image name it pulls or tags is docker's, which docker may remove again; a state's is not.
   */
  readonly forDocker?: boolean;
  /**
   * The resource this plan's or create's object is for, across commands (PlanOptions.createdFor):
   * a create writes it on the object; a create with `createsNow` takes over an object only when it
   * names the same resource.
   */
  readonly createdFor?: string;
  /**
   * How this command finds who holds an identity (a BIOS UUID, a name): `batched` reads a whole
   * VCH pool once and answers every plan from it (Terraform plans many objects per command);
   * `each` asks vSphere per object, for commands over one object (the Docker endpoint's requests),
   * where reading the pool would cost what grows with the number of objects in it.
   */
  readonly lookups: 'batched' | 'each';
  /** Progress of long work (uploads, task progress), rendered by the front end. */
  readonly progress: (phase: string, current?: number, total?: number, message?: string) => void;
  /** Something the apply did otherwise than its plan said, for the front end to show as a warning (ApplyWarning). */
  readonly warn: (warning: { readonly summary: string; readonly detail: string }) => void;
}

/** What `findIn` looks an object up by. */
export type LookupKey = { readonly name: string } | { readonly id: string; readonly moid?: string };

export interface PlanCheck {
  readonly problems: Problem[];
  /** Attributes that force a replacement although the config did not change (e.g. a moved tag). */
  readonly forceReplace?: { path: AttrPath; reason: string }[];
  readonly notes?: string[];
  /** Notes that hold only for a change in place (a power cycle): left out when the plan replaces the object. */
  readonly inPlaceNotes?: string[];
  /** forceNew inputs whose new value names the same vSphere object as before: no replacement. */
  readonly equivalent?: { attribute: string; reason: string }[];
  /** Reasons to apply although no attribute differs (e.g. new content to upload): at least an update. */
  readonly updates?: string[];
  /** Outputs already known at plan time (the digest a moved tag resolves to): they go into the plan. */
  readonly planned?: Attrs;
}

/**
 * `A` is the resource's attributes as its declaration types them (`AttrsOf<typeof decl.schema>`):
 * what the engine hands over has passed validation against that schema, defaults filled. What a
 * lifecycle returns is checked by the engine and the front ends against the schema again, so it
 * stays `Attrs`.
 */
export interface Lifecycle<A extends Attrs = Attrs> {
  readonly declaration: ResourceDeclaration;
  /** VCH pool MOIDs this state needs in the snapshot. */
  poolsOf(state: A): string[];
  /** Whether `read` needs the VMs of those pools, or their pool rows alone. */
  readonly readsVms: boolean;
  /** Reads the current state from the snapshot; null when the object is gone. */
  read(ctx: LifecycleContext, snapshot: InventorySnapshot, prior: A): Promise<Attrs | null>;
  /**
   * Whether `check` copes with inputs not known yet (UNKNOWN): it then runs on every plan and checks
   * what it can. Otherwise it runs only once every input is known.
   */
  readonly checksUnknown?: boolean;
  /**
   * Plan-time checks against vSphere, before anything changes. `config` has defaults filled; a
   * lifecycle that `checksUnknown` takes it as `PlannedAttrs`, since any value may be unknown.
   */
  check(ctx: LifecycleContext, config: A, prior: A | null): Promise<PlanCheck>;
  /**
   * Plan-time checks of a delete (one leaving the configuration, not a replacement's): what is
   * certain to refuse it at apply, whatever else the plan removes first, so that a destroy stops at
   * its plan instead of after the resources it removes before this one.
   */
  checkDelete?(ctx: LifecycleContext, prior: A): Promise<Problem[]>;
  create(ctx: LifecycleContext, config: A): Promise<Attrs>;
  update(ctx: LifecycleContext, prior: A, config: A): Promise<Attrs>;
  delete(ctx: LifecycleContext, prior: A): Promise<void>;
  importState(ctx: LifecycleContext, id: string): Promise<Attrs>;
  /** Data source lookup, for resources that have one. */
  lookup?(ctx: LifecycleContext, config: Attrs): Promise<Attrs>;
  /** Every object of this type a VCH holds, for listings such as `docker images` and `docker ps`. */
  listIn?(ctx: LifecycleContext, vchId: string): Promise<Attrs[]>;
  /**
   * The object of this type that the VCH holds under `key` (its name, or its id with the MOID it
   * last had as a hint), looked up in vSphere without listing the VCH: a command over one object
   * costs the same however many the VCH holds. Null when the VCH holds none; read as a listing
   * reads it.
   */
  findIn?(ctx: LifecycleContext, vchId: string, key: LookupKey): Promise<Attrs | null>;
  /**
   * The id an object of this type made now under `name` in the VCH takes, for resources whose id
   * derives from their name (a container VM's BIOS UUID): known before the create, by the lookups
   * the create makes itself.
   */
  idFor?(ctx: LifecycleContext, vchId: string, name: string): Promise<string>;
  /**
   * Gives the object another name while it keeps its id (`docker rename`), for resources whose
   * name can change in place although a plan replaces the object when the configured name changes.
   */
  rename?(ctx: LifecycleContext, prior: A, newName: string): Promise<Attrs>;
  /**
   * Another name that holds the object too (`docker tag` of an image): the object's state under
   * that name, which a plan then destroys as it destroys any other holder (the object goes with its
   * last name).
   */
  addName?(ctx: LifecycleContext, prior: A, name: string): Promise<Attrs>;
  /**
   * Asks the object's running process to take a signal (Linux number), a stop's when `stop` (its
   * restart policy then runs it no more); returns once vSphere has the request.
   */
  signal?(ctx: LifecycleContext, prior: A, signal: number, stop?: boolean): Promise<void>;
  /**
   * Input for the object's running process (its stdin), or with `exec` for that exec's, in order:
   * `data`, then its end when `eof`. Returns once vSphere has it; refused when the process runs no
   * more (`NotRunningError`), or its input cannot be reached (`InputUnreachableError`).
   */
  input?(ctx: LifecycleContext, prior: A, data: Buffer, eof: boolean, exec?: string): Promise<void>;
  /**
   * The size of the terminal of the object's running process (or with `exec`, that exec's), in order
   * with its input; refused as input is.
   */
  resize?(ctx: LifecycleContext, prior: A, rows: number, cols: number, exec?: string): Promise<void>;
  /** Runs another process beside the object's running one (docker exec), under the id given; returns once vSphere has the request. */
  exec?(ctx: LifecycleContext, prior: A, id: string, request: ExecRequest): Promise<void>;
  /** A maintenance boot of the stopped object (Engine.maintenance). */
  maintenance?(ctx: LifecycleContext, prior: A, token: string, op: MaintenanceOp): Promise<boolean>;
  /**
   * A file kept with the object (KeptFile); null when it was stored without one.
   */
  keptFile?(ctx: LifecycleContext, prior: A, file: KeptFile): Promise<Buffer | null>;
  /**
   * A new image of a container's files (docker commit), stored in VCH `vchId`'s image store under
   * the name the options give: its state, as `listIn` lists it.
   */
  commit?(ctx: LifecycleContext, vchId: string, options: CommitImageOptions): Promise<Attrs>;
  /** The images of an archive docker save wrote (docker load), stored in VCH `vchId`'s image store under the names it carries. */
  load?(ctx: LifecycleContext, vchId: string, options: LoadImagesOptions): Promise<LoadedImage[]>;
  /** docker push of the stored object (an image), read from its store when it was made there (docker commit), else from its registries. */
  push?(ctx: LifecycleContext, prior: A, options: PushOptions): Promise<PushResult>;
  /**
   * docker save of stored objects (images), each under its names (read where push reads it: its
   * store, or a registry that serves it under one of `sources`), as one archive written to `out`;
   * `onStarted` runs once each is found readable, before the first byte.
   */
  save?(
    ctx: LifecycleContext,
    objects: ReadonlyArray<{ prior: A; names: readonly string[]; sources: readonly string[] }>,
    out: Writable,
    access: SaveAccess,
    onStarted?: () => void,
  ): Promise<void>;
}

/**
 * What an image keeps beside its disk: `listing`, the listing of its files (gzip-compressed JSON
 * lines, docs/guest-config.md "docker diff"); `config`, its config as the registry served it (docker history).
 */
export type KeptFile = 'listing' | 'config';

/** An image docker load stored: its state, as `listIn` lists it, and the names the archive gave it. */
export interface LoadedImage {
  readonly image: Attrs;
  readonly names: readonly string[];
}

/** How docker save reaches a registry that serves an image it reads. */
export interface SaveAccess {
  /** Whether a registry host may be reached over plain HTTP or an unverified certificate. */
  readonly insecure: (registry: string) => boolean;
}

/**
 * The labels the Docker endpoint keeps on what docker makes (`vic-iac.docker.origin`, the image
 * name as typed, --rm…): docker may remove an object that carries the origin label. An import into
 * an IaC state leaves them out of the state, so that the first apply drops them from the object,
 * which is the state's from then on: docker may no longer remove it.
 */
export const DOCKER_LABEL_PREFIX = 'vic-iac.docker.';
/** The label that lets docker remove an object: the Docker endpoint made it. */
export const DOCKER_ORIGIN_LABEL = `${DOCKER_LABEL_PREFIX}origin`;

/**
 * A configuration that keeps docker's origin label, as `terraform plan -generate-config-out` writes
 * it (it copies the labels the refresh reads): docker rm, docker volume rm and
 * the prunes may still remove the object this state holds, and the next apply would make it again,
 * empty. A warning, not a refusal: the Docker endpoint's own plans carry the label, and they read
 * only errors.
 */
export function dockerOriginWarning(labels: unknown, what: 'container' | 'volume'): Problem[] {
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return [];
  const docker = Object.keys(labels).filter((k) => k.startsWith(DOCKER_LABEL_PREFIX));
  if (!docker.includes(DOCKER_ORIGIN_LABEL)) return [];
  const remover = what === 'container' ? 'docker rm and docker container prune' : 'docker volume rm and docker volume prune';
  return [
    {
      path: ['labels', DOCKER_ORIGIN_LABEL],
      severity: 'warning',
      summary: `Docker may remove this ${what}`,
      detail:
        `labels holds "${DOCKER_ORIGIN_LABEL}", the mark of a ${what} made with the Docker endpoint: ${remover} may remove it while this state holds it, and the next apply would make it again, empty. ` +
        `To hand it to this state, delete the ${docker.length} entries of labels whose keys start with "${DOCKER_LABEL_PREFIX}" (an import's generated configuration copies them) and apply: ` +
        'the apply takes them off the object, and docker then refuses to remove it.',
    },
  ];
}

/** Whether a container VM's labels, as its `vic.labels` extraConfig keeps them (JSON), mark it as made with the Docker endpoint. */
export function madeByDocker(labelsJson: string | undefined): boolean {
  try {
    const labels = JSON.parse(labelsJson ?? '{}') as unknown;
    return !!labels && typeof labels === 'object' && (labels as Record<string, unknown>)[DOCKER_ORIGIN_LABEL] === 'docker';
  } catch {
    return false;
  }
}

export function withoutDockerLabels(labels: unknown): Record<string, string> | null {
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return null;
  const kept = Object.entries(labels as Record<string, string>).filter(([k]) => !k.startsWith(DOCKER_LABEL_PREFIX));
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}
