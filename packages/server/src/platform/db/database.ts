import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { cachingStatements } from './sqlite-statement-cache.ts';

export type DialectName = 'sqlite' | 'postgres';

// Kysely<any> at the platform level: each store narrows it to the tables its module owns.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTx = Transaction<any>;

export interface Database {
  readonly db: AnyDb;
  readonly dialect: DialectName;
  readonly url: string;
  destroy(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

// BIGINT columns come back as strings from pg by default; our sequence numbers fit in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export interface DatabaseOptions {
  poolSize?: number;
  /** Called when an idle PostgreSQL connection breaks (server restart, failover, admin kill). */
  onConnectionError?: (err: Error) => void;
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // Without a listener, pg re-throws an idle connection's error and the process dies; the
    // pool has already dropped that connection and the next query opens a new one.
    pool.on('error', (err) => options.onConnectionError?.(err));
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) as AnyDb;
    return { db, dialect: 'postgres', url, destroy: () => db.destroy() };
  }
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<unknown>({ dialect: new KeepErrorSqliteDialect(sqlite) }) as AnyDb;
  return { db, dialect: 'sqlite', url, destroy: () => db.destroy() };
}

// SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, some I/O errors);
// Kysely's ROLLBACK then fails with "no transaction is active" and that error would replace
// the real one. The driver skips the ROLLBACK when there is no transaction left to undo.
class KeepErrorSqliteDialect extends SqliteDialect {
  private readonly statements: SqliteDatabase;

  constructor(private readonly sqlite: SQLite.Database) {
    const statements = cachingStatements(sqlite);
    super({ database: statements });
    this.statements = statements;
  }

  override createDriver(): Driver {
    const sqlite = this.sqlite;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
        if (sqlite.inTransaction) await super.rollbackTransaction(connection);
      }
    })({ database: this.statements });
  }
}
