import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  apiMarkdown,
  cliMarkdown,
  configurationMarkdown,
  errorsMarkdown,
  permissionsMarkdown,
} from './reference-docs.ts';

const dir = path.resolve(import.meta.dirname, '..', 'docs', 'reference');

describe('reference docs match the code', () => {
  it.each([
    ['errors.md', errorsMarkdown],
    ['permissions.md', permissionsMarkdown],
    ['configuration.md', configurationMarkdown],
    ['api.md', apiMarkdown],
    ['cli.md', cliMarkdown],
  ])('%s is current (regenerate with npm run docs:reference)', async (file, generate) => {
    expect(readFileSync(path.join(dir, file), 'utf8')).toBe(await generate());
  });
});
