import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { CreatorLookup } from '../../platform/four-eyes.ts';
import { parseLinkRef, type LinkKind } from './identity-link.ts';
import type { KyselyLinkStore } from './link-store.ts';
import type { KyselyPrincipalStore } from './principal-store.ts';

// Answers "which person is this?" for segregation of duties. Matching is exact on identities
// an administrator linked to a user (or the user's own e-mail): never on a name prefix or an
// e-mail's local part, so `github:erin` is not `user:erin` until someone links it.
export class IdentityDirectory implements CreatorLookup {
  constructor(
    private readonly deps: { principals: KyselyPrincipalStore; links: KyselyLinkStore },
  ) {}

  // Maps each reference to the live user it belongs to ("user:NAME", canonical name), if any.
  // References: "user:NAME", "email:ADDRESS", "github:LOGIN", "gitlab:LOGIN"; other kinds map
  // to nothing.
  async resolve(db: AnyDb | AnyTx, refs: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const users = new Map<string, string[]>();
    const links = new Map<string, { kind: LinkKind; normalized: string; refs: string[] }>();
    for (const ref of new Set(refs)) {
      if (ref.startsWith('user:')) {
        const name = ref.slice(5).toLowerCase();
        if (name) users.set(name, [...(users.get(name) ?? []), ref]);
        continue;
      }
      const link = parseLinkRef(ref);
      if (!link) continue;
      const key = `${link.kind}:${link.normalized}`;
      const entry = links.get(key) ?? { ...link, refs: [] };
      entry.refs.push(ref);
      links.set(key, entry);
    }
    for (const row of await this.deps.principals.findLiveByNames(db, 'user', [...users.keys()]))
      for (const ref of users.get(row.name.toLowerCase()) ?? []) out.set(ref, `user:${row.name}`);
    for (const row of await this.deps.links.owners(db, [...links.values()]))
      for (const ref of links.get(`${row.kind}:${row.normalized}`)?.refs ?? [])
        out.set(ref, `user:${row.principal_name}`);
    return out;
  }

  // Who created a principal and when (null creator for the bootstrap admin / system).
  async creatorOf(
    db: AnyDb | AnyTx,
    principal: string,
  ): Promise<{ createdBy: string | null; createdAt: string } | undefined> {
    const at = principal.indexOf(':');
    const prefix = principal.slice(0, at);
    const kind =
      prefix === 'user' ? 'user' : prefix === 'serviceaccount' ? 'service_account' : undefined;
    if (!kind || at < 0) return undefined;
    const [row] = await this.deps.principals.findLiveByNames(db, kind, [principal.slice(at + 1)]);
    return row ? { createdBy: row.created_by, createdAt: row.created_at } : undefined;
  }
}
