import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { IdentityTables, LinksTable } from './identity-tables.ts';

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<IdentityTables>;

export type LinkRow = LinksTable;

export interface LinkOwner {
  link: LinkRow;
  principalName: string;
}

const chunk = 500;

export class KyselyLinkStore {
  async insert(db: Db, row: LinkRow): Promise<void> {
    await k(db).insertInto('identity_links').values(row).execute();
  }

  // The live link of an identity, with the user it belongs to.
  async findLive(
    db: Db,
    kind: LinkRow['kind'],
    normalized: string,
  ): Promise<LinkOwner | undefined> {
    const row = await k(db)
      .selectFrom('identity_links as l')
      .innerJoin('identity_principals as p', 'p.id', 'l.principal_id')
      .selectAll('l')
      .select('p.name as principal_name')
      .where('l.kind', '=', kind)
      .where('l.normalized', '=', normalized)
      .where('l.removed_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const { principal_name: principalName, ...link } = row;
    return { link, principalName };
  }

  async listLive(db: Db, principalId: string): Promise<LinkRow[]> {
    return k(db)
      .selectFrom('identity_links')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('removed_at', 'is', null)
      .orderBy('kind')
      .orderBy('normalized')
      .execute();
  }

  async remove(db: Db, id: string, at: string): Promise<void> {
    await k(db)
      .updateTable('identity_links')
      .set({ removed_at: at })
      .where('id', '=', id)
      .where('removed_at', 'is', null)
      .execute();
  }

  async removeAllFor(db: Db, principalId: string, at: string): Promise<void> {
    await k(db)
      .updateTable('identity_links')
      .set({ removed_at: at })
      .where('principal_id', '=', principalId)
      .where('removed_at', 'is', null)
      .execute();
  }

  // Live users owning any of these identities (exact match on the normalized value).
  async owners(
    db: Db,
    wanted: readonly { kind: LinkRow['kind']; normalized: string }[],
  ): Promise<{ kind: string; normalized: string; principal_name: string }[]> {
    const out: { kind: string; normalized: string; principal_name: string }[] = [];
    for (let i = 0; i < wanted.length; i += chunk) {
      const part = wanted.slice(i, i + chunk);
      out.push(
        ...(await k(db)
          .selectFrom('identity_links as l')
          .innerJoin('identity_principals as p', 'p.id', 'l.principal_id')
          .select(['l.kind', 'l.normalized', 'p.name as principal_name'])
          .where('l.removed_at', 'is', null)
          .where('p.deleted_at', 'is', null)
          .where('p.kind', '=', 'user')
          .where((eb) =>
            eb.or(
              part.map((w) =>
                eb.and([eb('l.kind', '=', w.kind), eb('l.normalized', '=', w.normalized)]),
              ),
            ),
          )
          .execute()),
      );
    }
    return out;
  }
}
