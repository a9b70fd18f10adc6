import { Command, CommanderError, Option } from 'commander';
import { serverVersion } from '@custody/server';
import { commandModules } from './commands/index.ts';
import { reportError } from './error-output.ts';
import { exitCodes } from './exit-codes.ts';

// The options every command accepts. They are declared on the program and again (hidden) on
// every command, and the program's own options are positional (recognised only before the
// command name): so `custody run X --version 3` reaches `run`'s `--version`, while
// `custody run X --output json --server URL` still works after the command.
function globalOptionList(): Option[] {
  return [
    new Option('--server <url>', 'server URL (env CUSTODY_SERVER)'),
    new Option('--token <token>', 'API or session token (env CUSTODY_TOKEN)'),
    new Option('-o, --output <format>', 'output format').choices(['text', 'json']),
  ];
}

const globalHelp =
  '\nGlobal options, before or after the command: --server URL, --token TOKEN, -o/--output text|json';

export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command('custody')
    .description('Custody: software delivery with a verifiable chain of custody')
    // Top level only: `custody --version` or `custody -V`.
    .version(serverVersion, '-V, --version', 'print the version of custody and exit')
    .enablePositionalOptions()
    .showHelpAfterError(!options.json)
    .exitOverride();
  for (const o of globalOptionList()) program.addOption(o);
  // With --output json a usage error is one JSON object on stderr (main prints it).
  if (options.json) program.configureOutput({ outputError: () => {} });
  for (const register of commandModules) register(program);
  program.commands.forEach(function inherit(cmd: Command): void {
    cmd.exitOverride();
    if (cmd.commands.length === 0) cmd.addHelpText('after', globalHelp);
    for (const o of globalOptionList())
      if (!cmd.options.some((own) => own.long === o.long || (o.short && own.short === o.short)))
        cmd.addOption(o.hideHelp());
    cmd.commands.forEach(inherit);
  });
  return program;
}

// `-o json`, `--output json`, `--output=json`, `-ojson`, wherever they appear.
export function wantsJson(args: readonly string[]): boolean {
  return args.some(
    (a, i) =>
      a === '--output=json' ||
      a === '-ojson' ||
      ((a === '-o' || a === '--output') && args[i + 1] === 'json'),
  );
}

const successCodes = ['commander.helpDisplayed', 'commander.version', 'commander.help'];

// Returns the exit code: 0 success, 1 failure, 2 usage error, 3 permission denied.
export async function main(argv: readonly string[]): Promise<number> {
  const json = wantsJson(argv.slice(2));
  const program = buildProgram({ json });
  try {
    await program.parseAsync([...argv]);
    return exitCodes.success;
  } catch (err) {
    if (err instanceof CommanderError && successCodes.includes(err.code)) return exitCodes.success;
    return reportError(err, { json, write: (s) => process.stderr.write(s) });
  }
}
