import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

const examples = path.resolve(import.meta.dirname, '..', '..', '..', '..', '..', 'examples');

// The example manifests stay valid, and mean what their comments say.
describe('examples/deployment-controls.yaml', () => {
  let t: TestApp;
  const clock = new ManualClock('2026-03-26T14:00:00Z');
  beforeAll(async () => {
    t = await createTestApp('sqlite', { clock });
  });
  afterAll(async () => t?.close());

  it('applies on top of examples/resources.yaml and freezes quarter-end production deploys', async () => {
    for (const file of ['resources.yaml', 'deployment-controls.yaml']) {
      const res = await t.apply(readFileSync(path.join(examples, file), 'utf8'));
      expect(res.statusCode, file).toBe(200);
    }
    const check = (at: string, lane?: 'emergency') =>
      t.app.services.freeze.check({
        project: 'payments',
        environment: 'prod',
        at: new Date(at),
        lane,
      });
    expect((await check('2026-03-26T14:00:00Z')).frozen).toBe(false); // Thursday
    const friday = await check('2026-03-27T14:00:00Z');
    expect(friday.windows.map((w) => w.name)).toEqual(['quarter-close']);
    expect((await check('2026-03-27T14:00:00Z', 'emergency')).frozen).toBe(false);
    const saturday = await check('2026-03-28T14:00:00Z');
    expect(saturday.windows.map((w) => w.name)).toEqual(['weekends']);
    expect((await check('2026-12-24T17:00:00Z')).windows.map((w) => w.name)).toEqual([
      'holidays-2026',
    ]);
  });
});
