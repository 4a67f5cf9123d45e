/**
 * The `mlw` command line. Each service adds its commands from its own module (agent/src/cli/<service>.ts)
 * through `registerCommands` below. Exit codes: 0 success, 1 a user error (message on stderr), 2 bad usage.
 */
import { Command, CommanderError } from 'commander';
import { UsageError, UserError } from '../errors';
export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;

declare const MLW_VERSION: string | undefined;
export const VERSION = typeof MLW_VERSION === 'string' ? MLW_VERSION : '0.0.0-dev';

type Register = (program: Command) => void;

/**
 * Each service's commands, loaded only when asked for: the bundle initialises a module on its
 * first import, and initialising every service (Docker client, git, SQLite, …) cost every command
 * ~40–120 ms before it did anything. Listed in the order `mlw --help` shows them.
 */
const COMMAND_MODULES = {
  agent: async () => (await import('./agent')).registerAgentCommand,
  validate: async () => (await import('./validate')).registerValidateCommand,
  run: async () => (await import('./run')).registerRunCommand,
  runs: async () => (await import('./runs')).registerRunsCommands,
  results: async () => (await import('./results')).registerResultsCommands,
  git: async () => (await import('./git')).registerGitCommands,
  dag: async () => (await import('./dag')).registerDagCommands,
  data: async () => (await import('./data')).registerDataCommands,
  env: async () => (await import('./env')).registerEnvCommands,
} satisfies Record<string, () => Promise<Register>>;

export type CommandModule = keyof typeof COMMAND_MODULES;

/** The modules a top-level command needs (`runs reproduce` comes from the results module). */
export const MODULES_OF_COMMAND: Readonly<Record<string, readonly CommandModule[]>> = {
  agent: ['agent'],
  validate: ['validate'],
  run: ['run'],
  runs: ['runs', 'results'],
  push: ['results'],
  pull: ['results'],
  models: ['results'],
  branch: ['git'],
  flow: ['git'],
  sync: ['git'],
  dag: ['dag'],
  data: ['data'],
  env: ['env'],
};

/**
 * The program with the commands `argv` can reach: a known first word loads its own modules only;
 * anything else (`--help`, `help`, a typo to suggest a fix for) loads them all.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('mlw')
    .description('MLOps Workbench: pipelines, datasets, environments, runs and branches from the command line.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  const first = argv[0];
  const needed = first !== undefined && Object.hasOwn(MODULES_OF_COMMAND, first) ? MODULES_OF_COMMAND[first]! : (Object.keys(COMMAND_MODULES) as CommandModule[]);
  const registers = await Promise.all(needed.map((name) => COMMAND_MODULES[name]()));
  for (const register of registers) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    return exitCodeFor(error);
  }
}

/** The exit code for an error a command threw; its message goes to `writeErr` (stderr). */
export function exitCodeFor(error: unknown, writeErr: (text: string) => void = (text) => process.stderr.write(text)): number {
  if (error instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    writeErr(`mlw: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof UserError) {
    writeErr(`mlw: ${error.message}\n`);
    return EXIT_USER_ERROR;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeErr(`mlw: internal error: ${message}\n`);
  return EXIT_USER_ERROR;
}
