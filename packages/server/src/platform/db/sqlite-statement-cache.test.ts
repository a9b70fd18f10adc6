import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cachingStatements } from './sqlite-statement-cache.ts';

describe('SQLite statement cache', () => {
  it('hands out one prepared statement per SQL text, and a fresh one while it streams', () => {
    const sqlite = new SQLite(':memory:');
    sqlite.exec('create table t (n integer)');
    sqlite.exec('insert into t values (1), (2), (3)');
    const db = cachingStatements(sqlite);
    const a = db.prepare('select n from t order by n');
    expect(db.prepare('select n from t order by n')).toBe(a);
    const rows = a.iterate([]);
    rows.next();
    const other = db.prepare('select n from t order by n');
    expect(other).not.toBe(a);
    expect(other.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    rows.return?.();
    expect(db.prepare('select n from t order by n')).toBe(a);
    db.close();
  });

  it('drops the least recently used statement beyond its capacity', () => {
    const sqlite = new SQLite(':memory:');
    const db = cachingStatements(sqlite, 2);
    const one = db.prepare('select 1');
    db.prepare('select 2');
    db.prepare('select 1');
    db.prepare('select 3');
    expect(db.prepare('select 1')).toBe(one);
    expect(db.prepare('select 2').all([])).toEqual([{ 2: 2 }]);
    db.close();
  });

  it('a cached statement sees a column added after it was prepared', () => {
    const sqlite = new SQLite(':memory:');
    sqlite.exec('create table t (n integer)');
    const db = cachingStatements(sqlite);
    expect(db.prepare('select * from t').all([])).toEqual([]);
    sqlite.exec('alter table t add column m text');
    sqlite.exec("insert into t values (1, 'x')");
    expect(db.prepare('select * from t').all([])).toEqual([{ n: 1, m: 'x' }]);
    db.close();
  });
});
