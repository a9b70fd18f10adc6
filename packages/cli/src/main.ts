import { Command, CommanderError, Option } from 'commander';
import { commandModules } from './commands/index.ts';
import { CliError, exitCodes } from './exit-codes.ts';

export function buildProgram(): Command {
  const program = new Command('custody')
    .description('Custody: software delivery with a verifiable chain of custody')
    .version('0.1.0')
    .option('--server <url>', 'server URL (env CUSTODY_SERVER)')
    .option('--token <token>', 'API or session token (env CUSTODY_TOKEN)')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandModules) register(program);
  program.commands.forEach(function override(cmd: Command): void {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  });
  return program;
}

// Returns the exit code: 0 success, 1 failure, 2 usage error, 3 permission denied.
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('json') && (argv.includes('--output') || argv.includes('-o'));
  try {
    await program.parseAsync([...argv]);
    return exitCodes.success;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return exitCodes.success;
      return exitCodes.usage;
    }
    if (err instanceof CliError) {
      if (json)
        process.stderr.write(
          JSON.stringify({ error: { code: err.code ?? 'CLI_ERROR', message: err.message } }) + '\n',
        );
      else process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return exitCodes.failure;
  }
}
