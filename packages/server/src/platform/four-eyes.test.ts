import { describe, expect, it } from 'vitest';
import type { AnyDb } from './db/database.ts';
import { sockPuppetChain, type CreatorLookup } from './four-eyes.ts';

// The sock-puppet rule on its own: who created whom, and when.
const day = 86_400_000;
const since = '2026-06-10T00:00:00.000Z';
const daysBefore = (n: number) => new Date(Date.parse(since) - n * day).toISOString();

function lookup(created: Record<string, [string | null, string]>): CreatorLookup {
  return {
    creatorOf: async (_db, principal) => {
      const c = created[principal];
      return c ? { createdBy: c[0], createdAt: c[1] } : undefined;
    },
  };
}
const db = {} as AnyDb;
const chain = (creators: CreatorLookup, approver: string, windowMs: number | null = 7 * day) =>
  sockPuppetChain(creators, db, { approver, author: 'user:admin', since, windowMs });

describe('sock-puppet chains', () => {
  const creators = lookup({
    'user:sock': ['user:admin', daysBefore(-1)],
    'user:recent': ['user:admin', daysBefore(6)],
    'user:veteran': ['user:admin', daysBefore(8)],
    'user:p1': ['user:admin', daysBefore(1)],
    'user:p2': ['user:p1', daysBefore(0)],
    'user:old-hand': ['user:admin', daysBefore(400)],
    'user:hire': ['user:old-hand', daysBefore(1)],
    'user:loop-a': ['user:loop-b', daysBefore(1)],
    'user:loop-b': ['user:loop-a', daysBefore(1)],
    'user:boot': [null, daysBefore(0)],
  });

  it('finds direct and indirect puppets of the author within the window', async () => {
    expect(await chain(creators, 'user:sock')).toEqual(['user:sock', 'user:admin']);
    expect(await chain(creators, 'user:recent')).toEqual(['user:recent', 'user:admin']);
    expect(await chain(creators, 'user:p2')).toEqual(['user:p2', 'user:p1', 'user:admin']);
  });

  it('leaves alone accounts made long before, by others, by the system, or in a loop', async () => {
    expect(await chain(creators, 'user:veteran')).toBeUndefined();
    // A new hire of someone the author created long ago is that person's, not the author's.
    expect(await chain(creators, 'user:hire')).toBeUndefined();
    expect(await chain(creators, 'user:boot')).toBeUndefined();
    expect(await chain(creators, 'user:unknown')).toBeUndefined();
    expect(await chain(creators, 'user:loop-a')).toBeUndefined();
  });

  it('is off with a null window', async () => {
    expect(await chain(creators, 'user:sock', null)).toBeUndefined();
  });
});
