import type { Command } from 'commander';

// `custody report …`: the auditor's reports. Each report adds its subcommand to the group
// through one of the functions below (one file per report).
const reportCommands: ((report: Command) => void)[] = [];

export function registerReportCommands(program: Command): Command {
  const report = program
    .command('report')
    .description(
      "The auditor's reports: the population of production changes and samples of it, SoD, activity, DORA",
    );
  for (const add of reportCommands) add(report);
  return report;
}
