/**
 * The `mlw` command line. Each service adds its commands from its own module (agent/src/cli/<service>.ts)
 * through `registerCommands` below. Exit codes: 0 success, 1 a user error (message on stderr), 2 bad usage.
 */
import { Command, CommanderError } from 'commander';
import { UsageError, UserError } from '../errors';
import { registerAgentCommand } from './agent';
import { registerDataCommands } from './data';
import { registerEnvCommands } from './env';
import { registerGitCommands } from './git';
import { registerDagCommands } from './dag';
import { registerResultsCommands } from './results';
import { registerRunCommand } from './run';
import { registerRunsCommands } from './runs';
import { registerValidateCommand } from './validate';

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;

declare const MLW_VERSION: string | undefined;
export const VERSION = typeof MLW_VERSION === 'string' ? MLW_VERSION : '0.0.0-dev';

function registerCommands(program: Command): void {
  registerAgentCommand(program);
  registerValidateCommand(program);
  registerRunCommand(program);
  registerRunsCommands(program);
  registerResultsCommands(program);
  registerGitCommands(program);
  registerDagCommands(program);
  registerDataCommands(program);
  registerEnvCommands(program);
}

export function buildProgram(): Command {
  const program = new Command('mlw')
    .description('MLOps Workbench: pipelines, datasets, environments, runs and branches from the command line.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  registerCommands(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`mlw: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof UserError) {
    process.stderr.write(`mlw: ${error.message}\n`);
    return EXIT_USER_ERROR;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`mlw: internal error: ${message}\n`);
  return EXIT_USER_ERROR;
}
