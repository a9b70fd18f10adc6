import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvDraft04, { type ValidateFunction } from 'ajv-draft-04';

// A CommonJS module: its class is the `default` of what ESM imports.
const Ajv = AjvDraft04.default;

let validator: ValidateFunction | undefined;

// The OASIS SARIF 2.1.0 schema (draft-04) as Microsoft ships it in @microsoft/jest-sarif; the
// package is a dependency for that file only. Its language-tag pattern is not valid under
// the `u` flag, hence `unicodeRegExp: false`; formats are not checked (they are advisory).
export function sarifValidator(): ValidateFunction {
  if (!validator) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
    const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
    const ajv = new Ajv({
      strict: false,
      unicodeRegExp: false,
      validateFormats: false,
      logger: false,
    });
    validator = ajv.compile(schema);
  }
  return validator!;
}
