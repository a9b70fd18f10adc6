// The builtin registry: every family contributes a table.
import { awsBuiltins } from './aws-sign.ts';
import { collectionBuiltins } from './collections.ts';
import { coreBuiltins } from './core.ts';
import { cryptoBuiltins, hostBuiltins } from './crypto.ts';
import { encodingBuiltins } from './encoding.ts';
import { globsMatchBuiltins } from './globs-match.ts';
import { graphqlBuiltins } from './graphql.ts';
import { jsonPatchBuiltins } from './json-patch.ts';
import { jsonSchemaBuiltins } from './json-schema.ts';
import { jwtBuiltins } from './jwt.ts';
import { netBuiltins } from './net.ts';
import { netLookupBuiltins } from './net-lookup.ts';
import { regexBuiltins } from './regex.ts';
import { regoModuleBuiltins } from './rego-module.ts';
import { stringBuiltins } from './strings.ts';
import { timeBuiltins } from './time.ts';
import type { BuiltinTable } from './types.ts';
import { unitsSemverBuiltins } from './units-semver.ts';
import { uriBuiltins } from './uri.ts';
import { x509Builtins } from './x509.ts';

export const builtins: BuiltinTable = {
  ...coreBuiltins,
  ...stringBuiltins,
  ...collectionBuiltins,
  ...encodingBuiltins,
  ...regexBuiltins,
  ...unitsSemverBuiltins,
  ...netBuiltins,
  ...cryptoBuiltins,
  ...timeBuiltins,
  ...hostBuiltins,
  ...jwtBuiltins,
  ...jsonPatchBuiltins,
  ...uriBuiltins,
  ...globsMatchBuiltins,
  ...netLookupBuiltins,
  ...regoModuleBuiltins,
  ...awsBuiltins,
  ...graphqlBuiltins,
  ...jsonSchemaBuiltins,
  ...x509Builtins,
};
