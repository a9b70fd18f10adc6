import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';
import type { IdentityTables, PrincipalsTable, TokensTable } from './identity-tables.ts';

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<IdentityTables>;

export type PrincipalRow = PrincipalsTable;
export type TokenRow = TokensTable;

export interface TokenWithPrincipal {
  token: TokenRow;
  principal: PrincipalRow;
}

type TokenListRow = TokenRow & { principal_name: string; principal_kind: string };
const principalsByName: KeyColumn<PrincipalRow>[] = [
  { column: 'name', type: 'string', value: (r) => r.name },
  { column: 'id', type: 'string', value: (r) => r.id },
];
const tokensByCreation: KeyColumn<TokenListRow>[] = [
  { column: 't.created_at', type: 'string', value: (r) => r.created_at },
  { column: 't.id', type: 'string', value: (r) => r.id },
];

export class KyselyPrincipalStore {
  async insertPrincipal(db: Db, row: PrincipalRow): Promise<void> {
    await k(db).insertInto('identity_principals').values(row).execute();
  }

  // Names are case-insensitive: `BOB` finds `bob` (a unique index on lower(name) backs it).
  async findLiveByName(db: Db, name: string): Promise<PrincipalRow | undefined> {
    return k(db)
      .selectFrom('identity_principals')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  async findLiveByNames(
    db: Db,
    kind: PrincipalRow['kind'],
    names: readonly string[],
  ): Promise<PrincipalRow[]> {
    if (names.length === 0) return [];
    return k(db)
      .selectFrom('identity_principals')
      .selectAll()
      .where('kind', '=', kind)
      .where((eb) =>
        eb(
          eb.fn('lower', ['name']),
          'in',
          names.map((n) => n.toLowerCase()),
        ),
      )
      .where('deleted_at', 'is', null)
      .execute();
  }

  async setEmail(db: Db, id: string, email: string | null): Promise<void> {
    await k(db).updateTable('identity_principals').set({ email }).where('id', '=', id).execute();
  }

  async listLive(
    db: Db,
    kind: PrincipalRow['kind'],
    page: PageRequest,
  ): Promise<PageOf<PrincipalRow>> {
    const q = k(db)
      .selectFrom('identity_principals')
      .selectAll()
      .where('kind', '=', kind)
      .where('deleted_at', 'is', null);
    return fetchPage(q, principalsByName, page);
  }

  async countUsers(db: Db): Promise<number> {
    const row = await k(db)
      .selectFrom('identity_principals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'user')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async markDeleted(db: Db, id: string, at: string): Promise<void> {
    await k(db)
      .updateTable('identity_principals')
      .set({ deleted_at: at })
      .where('id', '=', id)
      .execute();
  }

  async insertToken(db: Db, row: TokenRow): Promise<void> {
    await k(db).insertInto('identity_tokens').values(row).execute();
  }

  async findTokenByHash(db: Db, hash: string): Promise<TokenWithPrincipal | undefined> {
    const row = await k(db)
      .selectFrom('identity_tokens as t')
      .innerJoin('identity_principals as p', 'p.id', 't.principal_id')
      .select([
        't.id as t_id',
        't.kind as t_kind',
        't.principal_id as t_principal_id',
        't.name as t_name',
        't.token_hash as t_token_hash',
        't.scopes as t_scopes',
        't.created_at as t_created_at',
        't.created_by as t_created_by',
        't.expires_at as t_expires_at',
        't.revoked_at as t_revoked_at',
        't.last_used_at as t_last_used_at',
        'p.id as p_id',
        'p.kind as p_kind',
        'p.name as p_name',
        'p.email as p_email',
        'p.password_hash as p_password_hash',
        'p.created_at as p_created_at',
        'p.created_by as p_created_by',
        'p.deleted_at as p_deleted_at',
      ])
      .where('t.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      token: {
        id: row.t_id,
        kind: row.t_kind,
        principal_id: row.t_principal_id,
        name: row.t_name,
        token_hash: row.t_token_hash,
        scopes: row.t_scopes,
        created_at: row.t_created_at,
        created_by: row.t_created_by,
        expires_at: row.t_expires_at,
        revoked_at: row.t_revoked_at,
        last_used_at: row.t_last_used_at,
      },
      principal: {
        id: row.p_id,
        kind: row.p_kind,
        name: row.p_name,
        email: row.p_email,
        password_hash: row.p_password_hash,
        created_at: row.p_created_at,
        created_by: row.p_created_by,
        deleted_at: row.p_deleted_at,
      },
    };
  }

  async findToken(db: Db, id: string): Promise<TokenRow | undefined> {
    return k(db).selectFrom('identity_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listTokens(
    db: Db,
    filter: { principalId?: string; kind: TokenRow['kind'] },
    page: PageRequest,
  ): Promise<PageOf<TokenListRow>> {
    let q = k(db)
      .selectFrom('identity_tokens as t')
      .innerJoin('identity_principals as p', 'p.id', 't.principal_id')
      .selectAll('t')
      .select(['p.name as principal_name', 'p.kind as principal_kind'])
      .where('t.kind', '=', filter.kind);
    if (filter.principalId) q = q.where('t.principal_id', '=', filter.principalId);
    return fetchPage(q, tokensByCreation, page);
  }

  async revokeToken(db: Db, id: string, at: string): Promise<void> {
    await k(db)
      .updateTable('identity_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .execute();
  }

  async revokeAllFor(db: Db, principalId: string, at: string): Promise<void> {
    await k(db)
      .updateTable('identity_tokens')
      .set({ revoked_at: at })
      .where('principal_id', '=', principalId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async touchToken(db: Db, id: string, at: string): Promise<void> {
    await k(db)
      .updateTable('identity_tokens')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .execute();
  }
}
