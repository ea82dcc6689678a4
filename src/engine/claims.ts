/**
 * Who claims which vSphere object within one command. A declaration's `identity` names the inputs
 * that together name its object (a container VM: VCH and name); two resources whose identities are
 * equal would share one object, and deleting either would delete the other's. Each plan claims its
 * identity for its owner; a second owner is refused, with a problem on the identity's last input.
 *
 * Owners are what the front end can tell apart: the stack's address (CLI), the Pulumi resource name,
 * or, in Terraform (which plans each resource once per provider process), the prior id or a fresh
 * token per create.
 *
 * Terraform also plans a tainted resource as a create without prior state, which meets its own
 * object. The front end tells which objects its state holds (`inState`): a create nobody else
 * claims may take over such an object, as its replacement, unless that object's own resource is
 * planned in the same command (then the two are distinct resources with one identity) or is
 * leaving the configuration (then the create is a rename, which must move the state instead).
 *
 * Terraform plans the destroy of a deposed object (the old object of a replacement that failed
 * after Terraform created the new one first) exactly as the destroy of a resource that left the
 * configuration, and applies it only after the create at its address (a deposed object is always
 * create_before_destroy to Terraform). Neither order frees the identity before the create, so the
 * same refusal covers both, and its advice names both (retiringHolderDetail).
 */
import { Attrs, Problem, ResourceDeclaration, Value, containsUnknown } from '../resources';

export interface Claimant {
  readonly owner: string;
  /** How messages name the owner, e.g. `container_vm.web`; absent when the owner is a bare token. */
  readonly label?: string;
  /** How messages name it as the other party when it has no label: by the id its state holds. */
  readonly stateLabel?: string;
  /** A create the front end named no owner for (it may be the replacement of a `replacing` claim). */
  readonly anonymous?: boolean;
}

interface Holder extends Claimant {
  /** Its object is planned for replacement: this prior state is about to be deleted. */
  replacing?: Attrs;
  /** A create that replaces an object the front end's state holds under no other claim (a tainted one). */
  takesOver?: Attrs;
  /** Its object leaves the configuration (or is a deposed one) and is deleted on its own: its prior state. */
  retiring?: Attrs;
}

export interface ClaimResult {
  readonly problems: Problem[];
  /**
   * The prior state whose replacement this claim is (see `replacing`), or, with a problem, the state
   * object leaving the command that holds the identity: its object is not another resource's to refuse again.
   */
  readonly replaces?: Attrs;
}

function show(v: Value | undefined): string {
  return JSON.stringify(v ?? null);
}

/** `type:[values of names]` of `attrs`, or undefined when one of them is missing, empty or unknown. */
export function attributesKey(type: string, names: readonly string[], attrs: Attrs): string | undefined {
  const values = names.map((n) => attrs[n]);
  if (values.some((v) => v === undefined || v === null || v === '' || containsUnknown(v))) return undefined;
  return `${type}:${JSON.stringify(values)}`;
}

/** The claim key of `attrs`, or undefined when the type declares no identity or part of it is unknown. */
export function identityKey(decl: ResourceDeclaration, attrs: Attrs): string | undefined {
  return decl.identity ? attributesKey(decl.type, decl.identity, attrs) : undefined;
}

/** What to do about two resources with one identity: the declaration's advice, or give each its own last identity input. */
export function duplicateAdvice(decl: ResourceDeclaration & { identity: readonly string[] }): string {
  return decl.duplicateAdvice ?? `Give each its own ${decl.identity[decl.identity.length - 1]}.`;
}

/** The id an import of the object `state` names takes (ResourceDeclaration.importId). */
function importIdOf(decl: ResourceDeclaration, state: Attrs): string {
  return (decl.importId ?? ['id']).map((n) => String(state[n] ?? '')).join('/');
}

/**
 * Why a create may not take an identity that `holder`, leaving this command, holds; a label-less
 * holder is Terraform's state object, which may also be a deposed one. Follows "declares <names>, ".
 */
function retiringHolderDetail(holder: Holder, last: string, id: string): string {
  const byLabel = holder.label !== undefined;
  return (
    `which ${byLabel ? holder.label : 'an object this plan destroys holds (a resource that leaves the configuration, or a deposed object of this resource)'}${byLabel ? ' holds' : ''}; ` +
    `a renamed resource must keep its object: move its state (a moved block or terraform state mv; vic state mv -f <spec.yaml> <old address> <new address>; a Pulumi alias) instead of creating it again, or give this one its own ${last}.` +
    (byLabel
      ? ''
      : ' A deposed object (the plan shows "(deposed object ...) will be destroyed") is the old object of a replacement that Terraform created first ' +
        "(lifecycle create_before_destroy) and that failed; Terraform always creates a deposed object's successor before it destroys the deposed object, " +
        'so the new object would meet the old one under the same identity. Bring the old object back into the state instead: ' +
        `"terraform state rm <address>" (the object stays in vSphere) and "terraform import <address> ${id}", then plan again; ` +
        'without create_before_destroy, a replacement then destroys the old object first.')
  );
}

function duplicateProblem(decl: ResourceDeclaration & { identity: readonly string[] }, attrs: Attrs, detail: (names: string, last: string) => string): Problem {
  const names = decl.identity.map((n) => `${n} = ${show(attrs[n])}`).join(' and ');
  const last = decl.identity[decl.identity.length - 1];
  return { path: [last], severity: 'error', summary: `Duplicate ${decl.type}`, detail: detail(names, last) };
}

export class IdentityClaims {
  private readonly holders = new Map<string, Holder>();
  private readonly stateHolds = new Map<string, Attrs>();
  /** Identities a second claimant was refused for (contestedBy). */
  private readonly contested = new Map<string, Problem>();

  /** The front end's state holds `state` in this command (it may be planned as a create again). */
  inState(decl: ResourceDeclaration, state: Attrs): void {
    const key = identityKey(decl, state);
    if (key && typeof state.id === 'string' && state.id !== '') this.stateHolds.set(key, state);
  }

  /** The state entry with this id, as the front end last told of it. */
  stateOf(decl: ResourceDeclaration, id: string): Attrs | undefined {
    for (const [key, state] of this.stateHolds) if (state.id === id && key.startsWith(`${decl.type}:`)) return state;
    return undefined;
  }

  /** Claims `attrs`' identity for `who`; a problem when another owner holds it already. */
  claim(decl: ResourceDeclaration, attrs: Attrs, who: Claimant): ClaimResult {
    const key = identityKey(decl, attrs);
    if (!key || !decl.identity) return { problems: [] };
    const holder = this.holders.get(key);
    const identified = decl as ResourceDeclaration & { identity: readonly string[] };
    if (!holder) {
      const held = who.anonymous ? this.stateHolds.get(key) : undefined;
      this.holders.set(key, { ...who, takesOver: held });
      return { problems: [], replaces: held };
    }
    if (holder.owner === who.owner) return { problems: [], replaces: holder.takesOver };
    if (holder.retiring) {
      const held = holder.retiring;
      return {
        problems: [
          duplicateProblem(
            identified,
            attrs,
            (names, last) => `${who.label ?? 'this resource'} declares ${names}, ${retiringHolderDetail(holder, last, importIdOf(decl, held))}`,
          ),
        ],
        replaces: held,
      };
    }
    // Terraform plans a replacement a second time, as a create without prior state: that create
    // takes over the claim of the object it replaces.
    if (holder.replacing && who.anonymous) {
      this.holders.set(key, { ...who });
      return { problems: [], replaces: holder.replacing };
    }
    const duplicate = duplicateProblem(
      identified,
      attrs,
      (names) =>
        `${who.label ? `${who.label} and ${holder.label ?? 'another resource'}` : `another ${decl.type} resource${(holder.label ?? holder.stateLabel) ? ` (${holder.label ?? holder.stateLabel})` : ''} and this one`} both declare ${names}; ` +
        `the two would share one vSphere object, and deleting either would delete it for both. ${duplicateAdvice(identified)}`,
    );
    this.contested.set(key, duplicate);
    return { problems: [duplicate] };
  }

  /**
   * The duplicate problem an identity met, whichever claimant was refused: the holder that got in
   * first is no safer to create than the one refused after it. A front end that checks each
   * resource as it comes (Pulumi) asks this before a create, since the refused one may be the
   * resource that already exists.
   */
  contestedBy(decl: ResourceDeclaration, attrs: Attrs): Problem | undefined {
    const key = identityKey(decl, attrs);
    return key ? this.contested.get(key) : undefined;
  }

  /**
   * `who`'s object `prior` leaves the configuration. A create that took it over as a replacement
   * is a rename instead: refused here (the create may have been planned first).
   */
  retire(decl: ResourceDeclaration, prior: Attrs, who: Claimant): Problem[] {
    const key = identityKey(decl, prior);
    if (!key || !decl.identity) return [];
    const holder = this.holders.get(key);
    if (!holder) {
      this.holders.set(key, { ...who, retiring: prior });
      return [];
    }
    if (holder.owner === who.owner || !holder.takesOver || holder.takesOver.id !== prior.id) return [];
    const identified = decl as ResourceDeclaration & { identity: readonly string[] };
    return [
      {
        ...duplicateProblem(
          identified,
          prior,
          (names) =>
            `${who.label ?? `this ${decl.type}`} leaves the configuration${who.label ? '' : ' (or is a deposed object)'} while another resource creates one with ${names}; ` +
            'a renamed resource must keep its object: move its state (a moved block or terraform state mv; vic state mv -f <spec.yaml> <old address> <new address>; a Pulumi alias) instead of creating it again, or remove the old one in one apply and create the new one in the next.' +
            (who.label
              ? ''
              : ` A deposed object is the old object of a failed create_before_destroy replacement, and Terraform always creates a deposed object's successor before it destroys the deposed object: bring it back into the state with "terraform state rm <address>" and "terraform import <address> ${importIdOf(decl, prior)}", then plan again.`),
        ),
        path: [],
      },
    ];
  }

  /** `owner`'s object is planned for replacement: the prior state `prior` is about to be deleted. */
  replacing(decl: ResourceDeclaration, attrs: Attrs, owner: string, prior: Attrs): void {
    const key = identityKey(decl, attrs);
    const holder = key ? this.holders.get(key) : undefined;
    if (holder && holder.owner === owner) holder.replacing = prior;
  }

  /** Frees what `owner` claimed (its object was deleted). */
  release(owner: string): void {
    for (const [key, holder] of this.holders) if (holder.owner === owner) this.holders.delete(key);
  }
}

// -------------------------------------------------------------------------------------------------
// Object claims: two identities, one object.

/**
 * The key of the object a plan makes or keeps: the declaration's `objectKey` (default `id`) over
 * the config with its planned id, or undefined while part of it is unknown (the id of an image
 * before its reference resolved, the VCH of a plan whose VCH is still to be made).
 */
export function plannedObjectKey(decl: ResourceDeclaration, attrs: Attrs): string | undefined {
  return attributesKey(decl.type, decl.objectKey ?? ['id'], attrs);
}

interface ObjectHolder extends Claimant {
  /** The identity key it declared: a claim with another identity is another resource. */
  readonly identity: string;
  readonly attrs: Attrs;
}

function objectDuplicateProblem(
  decl: ResourceDeclaration & { identity: readonly string[] },
  attrs: Attrs,
  object: Attrs,
  who: Claimant,
  holder: ObjectHolder,
): Problem {
  const differs = (n: string) => show(attrs[n]) !== show(holder.attrs[n]);
  const list = (names: readonly string[], of: Attrs) => names.map((n) => `${n} = ${show(of[n])}`).join(' and ');
  const own = decl.identity.filter(differs);
  const shared = decl.identity.filter((n) => !differs(n));
  const objectOnly = (decl.objectKey ?? ['id']).filter((n) => !decl.identity.includes(n));
  const whoName = `${who.label ?? `this ${decl.type} resource`} (${list(own, attrs)})`;
  const holderName = holder.label
    ? `${holder.label} (${list(own, holder.attrs)})`
    : `another ${decl.type} resource (${holder.stateLabel ? `${holder.stateLabel}; ` : ''}${list(own, holder.attrs)})`;
  return {
    path: [own[own.length - 1] ?? decl.identity[decl.identity.length - 1]],
    severity: 'error',
    summary: `Duplicate ${decl.type}`,
    detail:
      `${whoName} and ${holderName} both resolve to ${list(objectOnly, object)}` +
      `${shared.length > 0 ? ` in ${list(shared, attrs)}` : ''}: the two would share one vSphere object, and deleting either would delete it for both. ` +
      (decl.duplicateObjectAdvice ?? duplicateAdvice(decl)),
  };
}

/**
 * Who claims which planned object within one command. Two resources with different identities (an
 * image's `busybox:1.36` and `busybox@sha256:…`) can still name one object once the plan knows it
 * (one digest, one disk in the VCH's store): each plan claims its planned object key with its
 * identity, and a claim of that key under another identity is refused, as IdentityClaims refuses a
 * second owner of one identity. Resources with one identity are the same resource here (a
 * replacement planned twice, a reference edited into another name for the same digest): whether
 * two of them are distinct is IdentityClaims' to say.
 */
export class ObjectClaims {
  private readonly holders = new Map<string, ObjectHolder>();
  /** Objects a claim was refused for: the holder is no safer to create than the one refused. */
  private readonly contested = new Map<string, Problem>();

  /**
   * Claims for `who`, whose config is `attrs`, the object that `object` names (the config with its
   * planned id, or the prior state). Refused when another identity holds it; with `createsNow`,
   * also when the holder itself asks again after another identity was refused for it (Pulumi plans
   * a create again as it makes it, after the existing twin may have been refused: neither may go on).
   */
  claim(decl: ResourceDeclaration, attrs: Attrs, object: Attrs, who: Claimant, createsNow = false): Problem[] {
    const key = plannedObjectKey(decl, object);
    const identity = identityKey(decl, attrs);
    if (!key || !identity || !decl.identity) return [];
    const holder = this.holders.get(key);
    if (!holder) {
      this.holders.set(key, { ...who, identity, attrs });
      return [];
    }
    if (holder.identity === identity) {
      const contested = createsNow ? this.contested.get(key) : undefined;
      return contested ? [contested] : [];
    }
    const problem = objectDuplicateProblem(decl as ResourceDeclaration & { identity: readonly string[] }, attrs, object, who, holder);
    this.contested.set(key, problem);
    return [problem];
  }

  /**
   * The duplicate problem another identity met for the object `object` names, in this command: a
   * create that ran while its twin was refused (Pulumi plans the resources registered after a create
   * while it runs) holds an object that neither may keep.
   */
  contestedObject(decl: ResourceDeclaration, object: Attrs): Problem | undefined {
    const key = plannedObjectKey(decl, object);
    return key ? this.contested.get(key) : undefined;
  }

  /** Frees what `owner` claimed (its object was deleted, or its create failed). */
  release(owner: string): void {
    for (const [key, holder] of this.holders) if (holder.owner === owner) this.holders.delete(key);
  }
}
