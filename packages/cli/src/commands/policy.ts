import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { RegoError, compile, runPolicyTests, stringifyJSONValue } from '@custody/rego';
import { run } from '../command-context.ts';
import { CliError, UsageError } from '../exit-codes.ts';
import { registerDecisionCommands } from './policy-decisions.ts';

// `custody policy eval` and `custody policy test`: the Rego engine, offline.

function readFile(file: string, what: string): string {
  if (!existsSync(file)) throw new UsageError(`${what} ${file} does not exist`);
  return readFileSync(file, 'utf8');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function policyError(err: unknown): never {
  if (err instanceof RegoError) throw new CliError(err.message, 1, err.code);
  throw err;
}

export function registerPolicyCommands(program: Command): Command {
  const policy = program
    .command('policy')
    .description(
      'Rego policies: evaluate and test locally; the decision log, replay and impact on the server',
    );

  policy
    .command('eval')
    .description('Evaluate a Rego query against policy files and an input document')
    .argument('<query>', 'Rego query, e.g. data.pipeline.allow')
    .option(
      '-d, --data <file>',
      'Rego policy file or JSON/YAML data file (repeatable)',
      collect,
      [],
    )
    .option('-i, --input <file>', 'input document (JSON or YAML)')
    .option('--v0', 'parse policies as Rego v0')
    .option('--v0-compatible', "the same as --v0, by OPA's name for it")
    .option('--strict-builtin-errors', 'treat builtin errors as evaluation errors')
    .action(
      run(
        async (
          ctx,
          query: string,
          opts: {
            data: string[];
            input?: string;
            v0?: boolean;
            v0Compatible?: boolean;
            strictBuiltinErrors?: boolean;
          },
        ) => {
          const modules: { name: string; source: string }[] = [];
          let data: Record<string, unknown> = {};
          for (const file of opts.data) {
            const text = readFile(file, 'data file');
            if (file.endsWith('.rego')) modules.push({ name: file, source: text });
            else data = { ...data, ...(parseDoc(text, file) as Record<string, unknown>) };
          }
          const input =
            opts.input === undefined
              ? undefined
              : parseDoc(readFile(opts.input, 'input file'), opts.input);
          let result;
          try {
            const prepared = compile({
              modules,
              regoVersion: opts.v0 || opts.v0Compatible ? 'v0' : 'v1',
            });
            let q = prepared.query(query);
            // A query without variables (data.pkg.allow) reports its value, as opa eval does.
            if (q.compiled.outputs.length === 0 && !/[;\n]/.test(query.trim()))
              q = prepared.query(`value := ${query}`);
            result = q.eval({
              input,
              data,
              strictBuiltinErrors: opts.strictBuiltinErrors ?? false,
            });
          } catch (err) {
            policyError(err);
          }
          const bindings = result.results.map((r) => r.bindings);
          ctx.out.result({ defined: result.defined, results: bindings }, () =>
            result.defined
              ? bindings.map((b) => stringifyJSONValue(b, '  ')).join('\n')
              : 'undefined',
          );
        },
      ),
    );

  policy
    .command('test')
    .description('Run test_ rules in the .rego files under a directory (like opa test)')
    .argument('<dir>', 'directory (or file) with policies and their tests')
    .option('--v0', 'parse policies as Rego v0')
    .option('--v0-compatible', "the same as --v0, by OPA's name for it")
    .action(
      run(async (ctx, dir: string, opts: { v0?: boolean; v0Compatible?: boolean }) => {
        if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
        let outcomes;
        try {
          outcomes = runPolicyTests(dir, {
            regoVersion: opts.v0 || opts.v0Compatible ? 'v0' : 'v1',
          });
        } catch (err) {
          policyError(err);
        }
        const failed = outcomes.filter((o) => !o.pass);
        ctx.out.result(
          {
            passed: outcomes.length - failed.length,
            failed: failed.length,
            tests: outcomes.map((o) => ({
              name: o.name,
              file: path.relative(process.cwd(), o.file),
              pass: o.pass,
              reason: o.reason,
            })),
          },
          () =>
            outcomes
              .map((o) => `${o.pass ? 'PASS' : 'FAIL'}: ${o.name}${o.pass ? '' : ` (${o.reason})`}`)
              .join('\n') + `\n${outcomes.length - failed.length} passed, ${failed.length} failed`,
        );
        if (outcomes.length === 0)
          throw new CliError(`no test_ rules found under ${dir}`, 1, 'POLICY_NO_TESTS');
        if (failed.length)
          throw new CliError(`${failed.length} policy test(s) failed`, 1, 'POLICY_TESTS_FAILED');
      }),
    );
  registerDecisionCommands(policy);
  return policy;
}

function parseDoc(text: string, file: string): unknown {
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new UsageError(`cannot parse ${file}: ${(err as Error).message}`);
  }
}
