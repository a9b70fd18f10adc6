// `npm run conformance -- --dir FOLDER [--json FILE] [--only NAME] [--verbose]`
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runConformance } from './runner.ts';
import { isBuiltinFamily } from './families.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    json: { type: 'string' },
    only: { type: 'string', multiple: true },
    verbose: { type: 'boolean', default: false },
    core: { type: 'boolean', default: false },
  },
});

if (!values.dir) {
  process.stderr.write(
    'usage: conformance --dir FOLDER [--json FILE] [--only FOLDER] [--verbose]\n',
  );
  process.exit(2);
}

const only = values.only;
const summary = runConformance(
  path.resolve(values.dir),
  only ? { filter: (f) => only.includes(f) } : {},
);
for (const [folder, r] of Object.entries(summary.folders)) {
  const kind = isBuiltinFamily(folder) ? 'builtin' : 'core';
  process.stdout.write(`${folder} [${kind}]: ${r.passed}/${r.passed + r.failed}\n`);
}
if (values.verbose) {
  for (const c of summary.cases)
    if (!c.pass && !(values.core && isBuiltinFamily(c.folder)))
      process.stdout.write(`FAIL ${c.file}#${c.index} ${c.note}: ${c.reason.slice(0, 600)}\n`);
}
let corePass = 0;
let coreTotal = 0;
for (const [folder, r] of Object.entries(summary.folders)) {
  if (isBuiltinFamily(folder)) continue;
  corePass += r.passed;
  coreTotal += r.passed + r.failed;
}
process.stdout.write(`core: ${corePass}/${coreTotal}\n`);
if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2));
process.stdout.write(`${summary.passed} passed, ${summary.failed} failed\n`);
