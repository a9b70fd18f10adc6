import { generateCosignerKey, generateSignerKey } from '@custody/ledger';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../platform/config/config.ts';
import { createLogger } from '../../platform/log/logger.ts';

describe('witness configuration', () => {
  const witness = generateCosignerKey('witness.example/w1').verifierKey;

  it('takes a JSON list from the environment and validates it at start', async () => {
    const config = loadConfig({
      env: {
        CUSTODY_DATABASE_URL: ':memory:',
        CUSTODY_WITNESSES: JSON.stringify([{ url: 'https://w.example', verifierKey: witness }]),
      },
    });
    expect(config.witnesses).toEqual([{ url: 'https://w.example', verifierKey: witness }]);
    expect(() =>
      loadConfig({ env: { CUSTODY_DATABASE_URL: ':memory:', CUSTODY_WITNESSES: '[{"url": 1}]' } }),
    ).toThrow(/witnesses/);
    // A log key (signature type 0x01) is not a witness key: refused when the app is built.
    const logKey = generateSignerKey('not.a/witness').verifierKey;
    await expect(
      createApp({
        config: { ...config, witnesses: [{ url: 'https://w.example', verifierKey: logKey }] },
        logger: createLogger('silent'),
      }),
    ).rejects.toMatchObject({ code: 'LEDGER_WITNESS_CONFIG_INVALID' });
  });
});
