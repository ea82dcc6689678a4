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
  private readonly holders = new Map<string, Claimant>();

  /** Claims `attrs`' identity for `who`; a problem when another owner holds it already. */
  claim(decl: ResourceDeclaration, attrs: Attrs, who: Claimant): Problem[] {
    const key = identityKey(decl, attrs);
    if (!key || !decl.identity) return [];
    const holder = this.holders.get(key);
    if (!holder) {
      this.holders.set(key, who);
      return [];
    }
    if (holder.owner === who.owner) return [];
    const names = decl.identity.map((n) => `${n} = ${show(attrs[n])}`).join(' and ');
    const last = decl.identity[decl.identity.length - 1];
    return [
      {
        path: [last],
        severity: 'error',
        summary: `Duplicate ${decl.type}`,
        detail:
          `${who.label ? `${who.label} and ${holder.label ?? 'another resource'}` : `another ${decl.type} resource${holder.label ? ` (${holder.label})` : ''} and this one`} both declare ${names}; ` +
          `the two would share one vSphere object, and deleting either would delete it for both. Give each its own ${last}.`,
      },
    ];
  }

  /** Frees what `owner` claimed (its object was deleted). */
  release(owner: string): void {
    for (const [key, holder] of this.holders) if (holder.owner === owner) this.holders.delete(key);
  }
}
