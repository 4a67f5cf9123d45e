/**
 * `mlw data add|status|checkout|push|pull|fetch|versions|ls|diff|verify`: DVC-compatible datasets from
 * the terminal. `--json` prints one JSON document on stdout; progress goes to stderr. Exit codes:
 * 0 success, 1 a user error (or corrupt objects found, or transfers that failed), 2 bad usage.
 */
import type { Command } from 'commander';
import { stderrLogger } from '../context';
import { UsageError } from '../errors';
import { DataService, type ProgressSink } from '../data/service';
import { filesLines, formatBytes, statusLines } from '../data/format';

interface Common {
  json?: boolean;
  remote?: string;
  rev?: string;
  force?: boolean;
}

const service = (): DataService => new DataService({ cwd: process.cwd(), log: stderrLogger });

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress on stderr: one line per update, so it reads well in a terminal and in a CI log. */
const progressToStderr: ProgressSink = (progress) => {
  if (progress.operation === 'add') {
    process.stderr.write(`add: ${progress.files}/${progress.totalFiles} files hashed${progress.done ? ' (done)' : ''}\n`);
    return;
  }
  const total = progress.totalBytes === null ? '' : ` of ${formatBytes(progress.totalBytes)}`;
  const rate = progress.bytesPerSecond > 0 ? `, ${formatBytes(progress.bytesPerSecond)}/s` : '';
  process.stderr.write(`${progress.operation}: ${progress.files}/${progress.totalFiles} files, ${formatBytes(progress.bytes)}${total}${rate}${progress.done ? ' (done)' : ''}\n`);
};

function failIfAny(failed: ReadonlyArray<{ md5: string; error: string }>, verb: string): void {
  if (failed.length === 0) return;
  for (const failure of failed.slice(0, 10)) process.stderr.write(`mlw: ${verb} ${failure.md5}: ${failure.error}\n`);
  process.stderr.write(`mlw: ${failed.length} object(s) failed; run the command again to retry them\n`);
  process.exitCode = 1;
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('Versioned datasets in DVC 3 format: track, status, checkout, push/pull to remotes.');

  data
    .command('add')
    .description('Track files or folders: hash, store in .dvc/cache, write PATH.dvc, ignore PATH in git.')
    .argument('<paths...>', 'files or folders')
    .option('--json', 'print one JSON document on stdout')
    .action(async (paths: string[], options: Common) => {
      const results = await service().add(paths, options.json ? undefined : progressToStderr);
      if (options.json) printJson(results);
      else for (const result of results) process.stdout.write(`${result.pointerFile}: ${result.md5} (${formatBytes(result.size)}${result.nfiles === undefined ? '' : `, ${result.nfiles} files`})\n`);
    });

  data
    .command('status')
    .description('Each dataset: clean or modified (files added, removed, changed), missing from the cache, not pushed.')
    .argument('[paths...]', 'datasets (default: all)')
    .option('--remote <name>', 'also compare with this remote')
    .option('--cloud', 'also compare with the default remote')
    .option('--json', 'print one JSON document on stdout')
    .action(async (paths: string[], options: Common & { cloud?: boolean }) => {
      const statuses = await service().status(paths, options.remote, options.cloud ?? false);
      if (options.json) printJson(statuses);
      else process.stdout.write(`${statusLines(statuses).join('\n')}\n`);
    });

  data
    .command('checkout')
    .description('Make the workspace match the pointers (at HEAD or --rev) from the cache.')
    .argument('[paths...]', 'datasets (default: all)')
    .option('--rev <rev>', 'a git revision: check out the dataset version it records (and its pointer file)')
    .option('-f, --force', 'overwrite or remove workspace files whose content is not in the cache')
    .option('--json', 'print one JSON document on stdout')
    .action(async (paths: string[], options: Common) => {
      const results = await service().checkout(paths, { rev: options.rev, force: options.force ?? false });
      if (options.json) printJson(results);
      else for (const result of results) process.stdout.write(`${result.path}: ${result.written} written, ${result.removed} removed, ${result.unchanged} unchanged\n`);
    });

  for (const verb of ['push', 'fetch'] as const) {
    data
      .command(verb)
      .description(verb === 'push' ? 'Upload the objects the remote lacks.' : 'Download missing objects into the cache (each verified), without checkout.')
      .argument('[paths...]', 'datasets (default: all)')
      .option('-r, --remote <name>', 'a remote of .dvc/config (default: core.remote)')
      .option('--json', 'print one JSON document on stdout')
      .action(async (paths: string[], options: Common) => {
        const progress = options.json ? undefined : progressToStderr;
        const result = verb === 'push' ? await service().push(paths, options.remote, progress) : await service().fetch(paths, { remote: options.remote }, progress);
        if (options.json) printJson(result);
        else process.stdout.write(`${result.remote}: ${result.transferred} ${verb === 'push' ? 'uploaded' : 'downloaded'}, ${result.skipped} already there, ${formatBytes(result.bytes)}\n`);
        failIfAny(result.failed, verb);
      });
  }
  // fetch also takes --rev (the objects of a past version).
  data.commands.find((command) => command.name() === 'fetch')?.option('--rev <rev>', 'fetch what the pointers record at this git revision');

  data
    .command('pull')
    .description('Fetch, then check out.')
    .argument('[paths...]', 'datasets (default: all)')
    .option('-r, --remote <name>', 'a remote of .dvc/config (default: core.remote)')
    .option('--rev <rev>', 'a git revision')
    .option('-f, --force', 'overwrite workspace files whose content is not in the cache')
    .option('--json', 'print one JSON document on stdout')
    .action(async (paths: string[], options: Common) => {
      const result = await service().pull(paths, { remote: options.remote, rev: options.rev, force: options.force ?? false }, options.json ? undefined : progressToStderr);
      if (options.json) printJson(result);
      else {
        process.stdout.write(`${result.transfer.remote}: ${result.transfer.transferred} downloaded, ${result.transfer.skipped} already there\n`);
        for (const entry of result.checkout) process.stdout.write(`${entry.path}: ${entry.written} written, ${entry.removed} removed, ${entry.unchanged} unchanged\n`);
      }
    });

  data
    .command('versions')
    .description("A dataset's versions: the git history of its pointer file.")
    .argument('<path>', 'a dataset')
    .option('-n, --limit <n>', 'at most this many')
    .option('--json', 'print one JSON document on stdout')
    .action(async (path: string, options: Common & { limit?: string }) => {
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`data versions: --limit ${options.limit} is not a positive integer`);
      const versions = await service().versions(path, limit);
      if (options.json) printJson(versions);
      else
        for (const version of versions) {
          const what = version.md5 === null ? 'deleted' : `${formatBytes(version.size ?? 0)}${version.nfiles === null ? '' : `, ${version.nfiles} files`}`;
          process.stdout.write(`${version.commit.slice(0, 10)} ${version.date} ${version.author}: ${version.message} (${what})\n`);
        }
    });

  data
    .command('ls')
    .description("One folder of a dataset's files as its pointer records them (from the cache), with each file's state in the workspace.")
    .argument('<path>', 'a dataset')
    .argument('[folder]', "a folder inside the dataset, '/'-separated (default: its top)")
    .option('--rev <rev>', 'the version the pointer records at this git revision')
    .option('-n, --limit <n>', 'at most this many entries', '1000')
    .option('--json', 'print one JSON document on stdout')
    .action(async (path: string, folder: string | undefined, options: Common & { limit: string }) => {
      const limit = Number(options.limit);
      if (!(Number.isInteger(limit) && limit > 0)) throw new UsageError(`data ls: --limit ${options.limit} is not a positive integer`);
      const files = await service().files(path, { folder, rev: options.rev, limit });
      if (options.json) printJson(files);
      else process.stdout.write(`${filesLines(files).join('\n')}\n`);
    });

  data
    .command('diff')
    .description('Files added, removed and modified between two versions (REV2 default: the workspace pointer).')
    .argument('<path>', 'a dataset')
    .argument('<rev1>', 'a git revision')
    .argument('[rev2]', 'a git revision')
    .option('--json', 'print one JSON document on stdout')
    .action(async (path: string, rev1: string, rev2: string | undefined, options: Common) => {
      const diff = await service().diff(path, rev1, rev2);
      if (options.json) printJson(diff);
      else {
        for (const relpath of diff.added) process.stdout.write(`added:    ${relpath}\n`);
        for (const relpath of diff.removed) process.stdout.write(`removed:  ${relpath}\n`);
        for (const relpath of diff.modified) process.stdout.write(`modified: ${relpath}\n`);
      }
    });

  data
    .command('verify')
    .description('Re-hash cache objects (all, or those of the datasets named); exit 1 if any is corrupt or missing.')
    .argument('[paths...]', 'datasets (default: the whole cache)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (paths: string[], options: Common) => {
      const result = await service().verify(paths);
      if (options.json) printJson(result);
      else {
        for (const entry of result.corrupt) process.stdout.write(`corrupt: ${entry.path} (does not hash to ${entry.md5})\n`);
        for (const md5 of result.missing) process.stdout.write(`missing: ${md5}\n`);
        process.stdout.write(`${result.checked} object(s) checked, ${result.corrupt.length} corrupt, ${result.missing.length} missing\n`);
      }
      if (result.corrupt.length > 0 || result.missing.length > 0) process.exitCode = 1;
    });
}
