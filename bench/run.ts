import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

// `npm run bench [-- NAME...]`: runs each benchmark in its own process, one after another
// (they share two cores; running them side by side would measure each other).
const dir = import.meta.dirname;
const all = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(path.join(dir, d.name))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => path.join(d.name, f)),
  );
const wanted = process.argv.slice(2);
const selected = wanted.length
  ? all.filter((b) => wanted.some((w) => b === w || b.startsWith(`${w}/`)))
  : all;
if (selected.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}; have: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const bench of selected) {
  const file = path.join(dir, bench);
  if (!existsSync(file)) continue;
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
