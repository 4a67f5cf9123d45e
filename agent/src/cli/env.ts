/**
 * `mlw env list|build|remove|containerize`: the workspace's environments from the terminal. Build
 * output streams to stderr as it comes (Ctrl-C cancels the build, a second Ctrl-C leaves at once);
 * results go to stdout, one JSON document with `--json`. Exit codes: 0 success, 1 a user error
 * (an unreachable engine, a failed build), 2 bad usage.
 */
import type { Command } from 'commander';
import type { EnvironmentSpec } from '../../../schemas/dag';
import type { BuildResult, EnvironmentInfo, EnvironmentList } from '../../../schemas/protocol/env';
import { stderrLogger } from '../context';
import { UsageError } from '../errors';
import { EnvService } from '../env/service';

interface JsonOption {
  json?: boolean;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs `body` with a service for the current folder, closed after (its keep-alive connection would hold the process). */
async function withService<T>(body: (service: EnvService) => Promise<T>): Promise<T> {
  const service = new EnvService({ root: process.cwd(), log: stderrLogger });
  try {
    return await body(service);
  } finally {
    service.close();
  }
}

export function registerEnvCommands(program: Command): void {
  const env = program.command('env').description('Environments: Docker images built once per digest, conda environments and venvs.');

  env
    .command('list')
    .description('Every environment (DAG `environments:` and spec files found) with its state: ready, stale, missing, unknown, invalid.')
    .argument('[names...]', 'only these')
    .option('--json', 'print one JSON document on stdout')
    .action(async (names: string[], options: JsonOption) => {
      const list = await withService((service) => service.list(names));
      if (options.json) return printJson(list);
      process.stdout.write(environmentTable(list.environments));
      for (const line of toolLines(list)) process.stderr.write(`${line}\n`);
    });

  env
    .command('build')
    .description('Build environments unless they are ready (an unchanged Docker image is reused without asking the engine to build).')
    .argument('[names...]', 'environments to build (default: every one not on the host)')
    .option('-f, --force', 'build even when ready')
    .option('--prune', 'then remove the images or venvs of superseded digests')
    .option('--json', 'print one JSON document on stdout (build output still goes to stderr)')
    .action(async (names: string[], options: JsonOption & { force?: boolean; prune?: boolean }) => {
      const results = await withService(async (service) => {
        const targets = names.length > 0 ? names : await buildableNames(service);
        if (targets.length === 0) process.stderr.write('mlw: no environments to build (none in DAG files, no Dockerfile, environment.yml or requirements.txt)\n');
        return cancelOnInterrupt(async (signal) => {
          const built: BuildResult[] = [];
          for (const name of targets) {
            const started = Date.now();
            const progress = (line: string): void => void process.stderr.write(`${name} | ${line}\n`);
            const result = await service.build(name, { force: options.force ?? false, prune: options.prune ?? false, progress, signal });
            if (!options.json) process.stdout.write(`${buildSummary(result, Date.now() - started)}\n`);
            built.push(result);
          }
          return built;
        });
      });
      if (options.json) printJson(results);
    });

  env
    .command('remove')
    .description("Remove what was built for an environment: its current digest's image or venv (conda: the environment).")
    .argument('<name>', 'an environment')
    .option('--superseded', 'only the images or venvs of earlier digests (prune)')
    .option('--all', 'the current digest and every earlier one')
    .option('--json', 'print one JSON document on stdout')
    .action(async (name: string, options: JsonOption & { superseded?: boolean; all?: boolean }) => {
      if (options.superseded && options.all) throw new UsageError('env remove: --superseded and --all exclude each other');
      const which = options.all ? 'all' : options.superseded ? 'superseded' : 'current';
      const result = await withService((service) => service.remove(name, which));
      if (options.json) return printJson(result);
      if (result.removed.length === 0) process.stdout.write(`${name}: nothing to remove\n`);
      for (const removed of result.removed) process.stdout.write(`removed ${removed}\n`);
    });

  env
    .command('containerize')
    .description('Write a Dockerfile that reproduces a conda or venv environment on a base image.')
    .argument('<name>', 'a conda or venv environment')
    .option('--base <image>', 'the base image (default: python:3.11-slim for venv, mambaorg/micromamba for conda)')
    .option('-o, --output <file>', 'where to write it (default: <name>.Dockerfile beside the spec file)')
    .option('-f, --force', 'overwrite an existing file')
    .option('--json', 'print one JSON document on stdout')
    .action(async (name: string, options: JsonOption & { base?: string; output?: string; force?: boolean }) => {
      const result = await withService((service) => service.containerize(name, { base: options.base, output: options.output, force: options.force ?? false }));
      if (options.json) return printJson(result);
      process.stdout.write(`wrote ${result.dockerfile}\n`);
    });
}

async function buildableNames(service: EnvService): Promise<string[]> {
  const definitions = await service.definitions();
  return definitions.filter((definition) => definition.kind !== 'local' && definition.spec !== null && !isImageAsIs(definition.spec)).map((definition) => definition.name);
}

function isImageAsIs(spec: EnvironmentSpec): boolean {
  return spec.docker !== undefined && 'image' in spec.docker;
}

/** The first Ctrl-C (or SIGTERM) aborts the build; a second Ctrl-C leaves at once. */
async function cancelOnInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1 && signal === 'SIGINT') process.exit(130);
    process.stderr.write(`mlw: ${signal}: cancelling the build (Ctrl-C again to leave at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function buildSummary(result: BuildResult, elapsedMs: number): string {
  const what = result.image ?? result.path ?? 'the host';
  const how = result.reused ? 'up to date, reused' : `built in ${(elapsedMs / 1000).toFixed(1)} s`;
  const pruned = result.pruned.length > 0 ? `; pruned ${result.pruned.join(', ')}` : '';
  return `${result.name}: ${what} (${how})${pruned}`;
}

export function environmentTable(environments: readonly EnvironmentInfo[]): string {
  if (environments.length === 0) return 'no environments: none in DAG files, no Dockerfile, environment.yml or requirements.txt\n';
  const rows = [
    ['NAME', 'KIND', 'STATE', 'IMAGE / PATH', 'DEFINED IN'],
    ...environments.map((info) => [info.name, info.kind, info.state, info.image ?? info.path ?? '-', info.line === null ? info.file : `${info.file}:${info.line}`]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
  const details = environments.filter((info) => info.detail && info.state !== 'ready').map((info) => `  ${info.name}: ${info.detail}`);
  return `${[...lines, ...(details.length > 0 ? ['', ...details] : [])].join('\n')}\n`;
}

function toolLines(list: EnvironmentList): string[] {
  const lines: string[] = [];
  if (!list.tools.docker.reachable) lines.push(`mlw: ${list.tools.docker.error ?? `the Docker engine at ${list.tools.docker.where} is not reachable`}`);
  if (list.environments.some((info) => info.kind === 'conda') && !list.tools.conda) lines.push('mlw: no conda, mamba or micromamba found (set MLW_CONDA to one)');
  return lines;
}
