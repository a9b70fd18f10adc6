import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { IdentityTables, RoleBindingsTable, RolesTable } from './identity-tables.ts';

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<IdentityTables>;

export type BindingRow = RoleBindingsTable;
export type RoleRow = RolesTable;

export interface PrincipalRef {
  type: string;
  name: string;
}

export class KyselyRbacStore {
  async upsertGroup(
    db: Db,
    name: string,
    description: string,
    members: PrincipalRef[],
  ): Promise<void> {
    await k(db)
      .insertInto('identity_groups')
      .values({ name, description })
      .onConflict((oc) => oc.column('name').doUpdateSet({ description }))
      .execute();
    await k(db).deleteFrom('identity_group_members').where('group_name', '=', name).execute();
    // Principal names are case-insensitive: members are stored in lower case, once each.
    const unique = new Map(
      members.map((m) => [`${m.type}:${m.name.toLowerCase()}`, lowerName(m)] as const),
    );
    if (unique.size > 0) {
      await k(db)
        .insertInto('identity_group_members')
        .values(
          [...unique.values()].map((m) => ({
            group_name: name,
            principal_type: m.type,
            principal_name: m.name,
          })),
        )
        .execute();
    }
  }

  async groupsOf(db: Db, principal: PrincipalRef): Promise<string[]> {
    const rows = await k(db)
      .selectFrom('identity_group_members')
      .select('group_name')
      .where('principal_type', '=', principal.type)
      .where('principal_name', '=', principal.name.toLowerCase())
      .execute();
    return rows.map((r) => r.group_name);
  }

  async membersOf(db: Db, group: string): Promise<PrincipalRef[]> {
    const rows = await k(db)
      .selectFrom('identity_group_members')
      .select(['principal_type', 'principal_name'])
      .where('group_name', '=', group)
      .orderBy('principal_name')
      .execute();
    return rows.map((r) => ({ type: r.principal_type, name: r.principal_name }));
  }

  async upsertRole(db: Db, row: RoleRow): Promise<void> {
    await k(db)
      .insertInto('identity_roles')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ description: row.description, permissions: row.permissions }),
      )
      .execute();
  }

  async findRole(db: Db, name: string): Promise<RoleRow | undefined> {
    return k(db)
      .selectFrom('identity_roles')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async rolesByName(db: Db, names: string[]): Promise<RoleRow[]> {
    if (names.length === 0) return [];
    return k(db).selectFrom('identity_roles').selectAll().where('name', 'in', names).execute();
  }

  async upsertBinding(db: Db, input: BindingRow): Promise<void> {
    const row = { ...input, principal_name: input.principal_name.toLowerCase() };
    const { name: _name, ...rest } = row;
    await k(db)
      .insertInto('identity_role_bindings')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet(rest))
      .execute();
  }

  async bindingsFor(db: Db, principals: PrincipalRef[]): Promise<BindingRow[]> {
    if (principals.length === 0) return [];
    return k(db)
      .selectFrom('identity_role_bindings')
      .selectAll()
      .where((eb) =>
        eb.or(
          principals.map((p) =>
            eb.and([
              eb('principal_type', '=', p.type),
              eb('principal_name', '=', p.name.toLowerCase()),
            ]),
          ),
        ),
      )
      .execute();
  }

  async deleteBinding(db: Db, name: string): Promise<void> {
    await k(db).deleteFrom('identity_role_bindings').where('name', '=', name).execute();
  }

  async deleteGroup(db: Db, name: string): Promise<void> {
    await k(db).deleteFrom('identity_group_members').where('group_name', '=', name).execute();
    await k(db).deleteFrom('identity_groups').where('name', '=', name).execute();
  }

  async deleteRole(db: Db, name: string): Promise<void> {
    await k(db).deleteFrom('identity_roles').where('name', '=', name).execute();
  }
}

function lowerName(p: PrincipalRef): PrincipalRef {
  return { type: p.type, name: p.name.toLowerCase() };
}
