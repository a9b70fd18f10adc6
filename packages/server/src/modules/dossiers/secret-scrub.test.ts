import { describe, expect, it } from 'vitest';
import { escapeHtml } from './dossier-html.ts';
import { isSecretKey, redactedValue, scrub } from './secret-scrub.ts';

describe('what a dossier never carries', () => {
  it('redacts string values under secret-named keys, wherever they are, and says where', () => {
    const out = scrub({
      inputs: { region: 'eu', api_token: 't0k', DB_PASSWORD: 'pw' },
      trigger: { type: 'webhook', webhookSecret: 's3', nested: [{ clientSecret: 'c', name: 'x' }] },
      spec: { steps: [{ name: 'ship', secrets: ['DEPLOY_KEY', 'API_TOKEN'] }] },
    });
    expect(out.value).toEqual({
      inputs: { region: 'eu', api_token: redactedValue, DB_PASSWORD: redactedValue },
      trigger: {
        type: 'webhook',
        webhookSecret: redactedValue,
        nested: [{ clientSecret: redactedValue, name: 'x' }],
      },
      // A step's secret names are names, not values.
      spec: { steps: [{ name: 'ship', secrets: ['DEPLOY_KEY', 'API_TOKEN'] }] },
    });
    expect(out.redacted).toEqual([
      '$.inputs.api_token',
      '$.inputs.DB_PASSWORD',
      '$.trigger.webhookSecret',
      '$.trigger.nested[0].clientSecret',
    ]);
  });

  it('keeps what only looks like a secret word: hashes, key ids, token counts', () => {
    for (const k of ['intentHash', 'keyId', 'contentHash', 'tokens', 'secretsCount', 'leafHash'])
      expect(isSecretKey(k), k).toBe(false);
    for (const k of ['token', 'password', 'private_key', 'apiKey', 'credentials', 'authorization'])
      expect(isSecretKey(k), k).toBe(true);
  });

  it('escapes every character HTML gives a meaning to', () => {
    expect(escapeHtml(`<script>alert('x')</script> & "q"`)).toBe(
      '&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;',
    );
    expect(escapeHtml({ a: '<b>' })).toBe('{&quot;a&quot;:&quot;&lt;b&gt;&quot;}');
  });
});
