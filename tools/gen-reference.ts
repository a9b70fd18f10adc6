import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configurationMarkdown, errorsMarkdown, permissionsMarkdown } from './reference-docs.ts';

const dir = path.resolve(import.meta.dirname, '..', 'docs', 'reference');
writeFileSync(path.join(dir, 'errors.md'), errorsMarkdown());
writeFileSync(path.join(dir, 'permissions.md'), permissionsMarkdown());
writeFileSync(path.join(dir, 'configuration.md'), configurationMarkdown());
process.stdout.write(`wrote errors.md, permissions.md, configuration.md in ${dir}\n`);
