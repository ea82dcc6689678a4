/**
 * Who claims which vSphere object within one command. A declaration's `identity` names the inputs
 * that together name its object (a container VM: VCH and name); two resources whose identities are
 * equal would share one object, and deleting either would delete the other's. Each plan claims its
 * identity for its owner; a second owner is refused, with a problem on the identity's last input.
 *
 * Owners are what the front end can tell apart: the stack's address (CLI), the Pulumi resource name,
 * or, in Terraform (which plans each resource once per provider process), the prior id or a fresh
 * token per create.
 */
import { Attrs, Problem, ResourceDeclaration, Value, containsUnknown } from '../resources';

export interface Claimant {
  readonly owner: string;
  /** How messages name the owner, e.g. `container_vm.web`; absent when the owner is a bare token. */
  readonly label?: string;
  /** A create the front end named no owner for (it may be the replacement of a `replacing` claim). */
  readonly anonymous?: boolean;
}

interface Holder extends Claimant {
  /** Its object is planned for replacement: this prior state is about to be deleted. */
  replacing?: Attrs;
}

export interface ClaimResult {
  readonly problems: Problem[];
  /** The prior state whose replacement this claim is (see `replacing`). */
  readonly replaces?: Attrs;
}

function show(v: Value | undefined): string {
  return JSON.stringify(v ?? null);
}

/** The claim key of `attrs`, or undefined when the type declares no identity or part of it is unknown. */
export function identityKey(decl: ResourceDeclaration, attrs: Attrs): string | undefined {
  if (!decl.identity) return undefined;
  const values = decl.identity.map((n) => attrs[n]);
  if (values.some((v) => v === undefined || v === null || v === '' || containsUnknown(v))) return undefined;
  return `${decl.type}:${JSON.stringify(values)}`;
}

export class IdentityClaims {
  private readonly holders = new Map<string, Holder>();

  /** Claims `attrs`' identity for `who`; a problem when another owner holds it already. */
  claim(decl: ResourceDeclaration, attrs: Attrs, who: Claimant): ClaimResult {
    const key = identityKey(decl, attrs);
    if (!key || !decl.identity) return { problems: [] };
    const holder = this.holders.get(key);
    if (!holder) {
      this.holders.set(key, { ...who });
      return { problems: [] };
    }
    if (holder.owner === who.owner) return { problems: [] };
    // Terraform plans a replacement a second time, as a create without prior state: that create
    // takes over the claim of the object it replaces.
    if (holder.replacing && who.anonymous) {
      this.holders.set(key, { ...who });
      return { problems: [], replaces: holder.replacing };
    }
    const names = decl.identity.map((n) => `${n} = ${show(attrs[n])}`).join(' and ');
    const last = decl.identity[decl.identity.length - 1];
    return {
      problems: [
        {
          path: [last],
          severity: 'error',
          summary: `Duplicate ${decl.type}`,
          detail:
            `${who.label ? `${who.label} and ${holder.label ?? 'another resource'}` : `another ${decl.type} resource${holder.label ? ` (${holder.label})` : ''} and this one`} both declare ${names}; ` +
            `the two would share one vSphere object, and deleting either would delete it for both. Give each its own ${last}.`,
        },
      ],
    };
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
