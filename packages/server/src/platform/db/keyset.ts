import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { DomainError, platformErrors } from '../errors.ts';

// Keyset pagination for stores: a page continues strictly after the position (the sort-key
// values) of the previous page's last row, so rows added or removed between pages never make
// another row appear twice or be skipped, and page N costs what page 1 costs (an index range
// scan, no OFFSET). The keys must be NOT NULL, never updated, and unique together.

export type Position = readonly (string | number)[];

export interface PageRequest {
  readonly limit: number;
  readonly after: Position | undefined;
}

export interface PageOf<T> {
  readonly items: T[];
  readonly next: Position | null;
}

export interface KeyColumn<Row> {
  // The SQL reference as the query names it, e.g. `h.name`.
  readonly column: string;
  readonly type: 'string' | 'number';
  readonly desc?: boolean;
  readonly value: (row: Row) => string | number;
}

export async function fetchPage<DB, TB extends keyof DB, Row>(
  query: SelectQueryBuilder<DB, TB, Row>,
  keys: readonly KeyColumn<Row>[],
  page: PageRequest,
): Promise<PageOf<Row>> {
  let q = query;
  if (page.after) q = q.where(after(keys, page.after));
  for (const k of keys) q = q.orderBy(sql.ref(k.column), k.desc ? 'desc' : 'asc');
  const rows = (await q.limit(page.limit + 1).execute()) as Row[];
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  const last = items.at(-1);
  return { items, next: more && last ? keys.map((k) => k.value(last)) : null };
}

// (k1 > v1) or (k1 = v1 and k2 > v2) or …, with < for descending keys.
function after<Row>(keys: readonly KeyColumn<Row>[], values: Position): RawBuilder<SqlBool> {
  if (values.length !== keys.length || keys.some((k, i) => typeof values[i] !== k.type))
    throw new DomainError(
      platformErrors.PAGINATION_CURSOR_INVALID,
      'the cursor does not fit this listing',
    );
  const branches = keys.map((k, i) => {
    const equal = keys.slice(0, i).map((p, j) => sql`${sql.ref(p.column)} = ${values[j]}`);
    const beyond = sql`${sql.ref(k.column)} ${sql.raw(k.desc ? '<' : '>')} ${values[i]}`;
    return sql`(${sql.join([...equal, beyond], sql` and `)})`;
  });
  return sql<SqlBool>`(${sql.join(branches, sql` or `)})`;
}

// For callers inside the server that want the first page of the default size.
export const firstPage: PageRequest = { limit: 100, after: undefined };
