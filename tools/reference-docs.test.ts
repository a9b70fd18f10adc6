import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown, errorsMarkdown, permissionsMarkdown } from './reference-docs.ts';

const dir = path.resolve(import.meta.dirname, '..', 'docs', 'reference');

describe('reference docs match the code', () => {
  it.each([
    ['errors.md', errorsMarkdown],
    ['permissions.md', permissionsMarkdown],
    ['configuration.md', configurationMarkdown],
  ])('%s is current (regenerate with npm run docs:reference)', (file, generate) => {
    expect(readFileSync(path.join(dir, file), 'utf8')).toBe(generate());
  });
});
