import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  apiMarkdown,
  cliMarkdown,
  configurationMarkdown,
  errorsMarkdown,
  permissionsMarkdown,
} from './reference-docs.ts';

const dir = path.resolve(import.meta.dirname, '..', 'docs', 'reference');
writeFileSync(path.join(dir, 'errors.md'), errorsMarkdown());
writeFileSync(path.join(dir, 'permissions.md'), permissionsMarkdown());
writeFileSync(path.join(dir, 'configuration.md'), configurationMarkdown());
writeFileSync(path.join(dir, 'api.md'), await apiMarkdown());
writeFileSync(path.join(dir, 'cli.md'), cliMarkdown());
process.stdout.write(`wrote errors.md, permissions.md, configuration.md, api.md in ${dir}\n`);
