/**
 * `mlw branch list|create|checkout|rename|delete|merge`, `mlw flow feature|release|hotfix start|finish NAME`,
 * `mlw sync fetch|pull|push`: the git service from the terminal, in the repository holding the cwd.
 * Listings take `--json` (one JSON document on stdout). A refused or failed operation exits 1 with
 * the reason (and the files involved) on stderr.
 */
import type { Command } from 'commander';
import type { FlowKind } from '../../../schemas/protocol/git';
import { listBranches } from '../git/branches';
import { flowFinish, flowStart } from '../git/flow';
import { branchTable, describeHead, stashNote } from '../git/format';
import { checkoutBranch, conflictMessage, createBranch, deleteBranch, mergeBranch, renameBranch } from '../git/operations';
import { openRepo, workingTreeStatus, type Repo } from '../git/repo';
import { fetchRemote, pullBranch, pushBranch } from '../git/sync';
import { GitError } from '../git/errors';
import { UsageError } from '../errors';

interface StashOption {
  stash?: boolean;
}

function say(...lines: Array<string | null>): void {
  for (const line of lines) if (line !== null) process.stdout.write(`${line}\n`);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function repo(): Promise<Repo> {
  return openRepo(process.cwd());
}

/** Progress goes to stderr when it is a terminal (stdout stays the result). */
function progress(): { progress?: (message: string) => void } {
  if (!process.stderr.isTTY) return {};
  return { progress: (message) => process.stderr.write(`\r\x1b[K${message}`) };
}

const STASH_HELP = 'with uncommitted changes: stash them, operate, then re-apply them';

export function registerGitCommands(program: Command): void {
  registerBranch(program);
  registerFlow(program);
  registerSync(program);
}

function registerBranch(program: Command): void {
  const branch = program.command('branch').description('List, create, check out, rename, delete and merge branches.');

  branch
    .command('list')
    .description('Local and remote-tracking branches: current, upstream, ahead/behind, last commit, merged.')
    .option('--local', 'only local branches')
    .option('--json', 'print one JSON document on stdout')
    .action(async (options: { local?: boolean; json?: boolean }) => {
      const list = await listBranches(await repo(), { includeRemote: !options.local });
      if (options.json) printJson(list);
      else say(branchTable(list));
    });

  branch
    .command('status')
    .description('HEAD, dirty, untracked and conflicted files, and any merge or rebase in progress.')
    .option('--json', 'print one JSON document on stdout')
    .action(async (options: { json?: boolean }) => {
      const status = await workingTreeStatus(await repo());
      if (options.json) return printJson(status);
      say(describeHead(status.head) + (status.inProgress ? ` (${status.inProgress} in progress)` : ''));
      for (const [label, files] of [['conflicted', status.conflicted], ['changed', status.dirty], ['untracked', status.untracked]] as const) {
        if (files.length > 0) say(`${label}:`, ...files.map((file) => `  ${file}`));
      }
    });

  branch
    .command('create')
    .description('Create a branch at a ref (default: HEAD).')
    .argument('<name>')
    .argument('[from]', 'a branch, tag or commit to start from')
    .option('--checkout', 'switch to it')
    .option('--stash', STASH_HELP)
    .action(async (name: string, from: string | undefined, options: StashOption & { checkout?: boolean }) => {
      const result = await createBranch(await repo(), { name, from, checkout: options.checkout ?? false, stash: options.stash ?? false });
      say(`created ${result.name} at ${result.sha.slice(0, 7)}`, options.checkout ? describeHead(result.head) : null, stashNote(result.stash));
    });

  branch
    .command('checkout')
    .description('Switch to a branch; a remote branch (origin/x) gets a local tracking branch.')
    .argument('<name>')
    .option('--stash', STASH_HELP)
    .action(async (name: string, options: StashOption) => {
      const result = await checkoutBranch(await repo(), { name, stash: options.stash ?? false });
      say(result.created ? `created ${result.created} tracking ${name}` : null, describeHead(result.head), stashNote(result.stash));
    });

  branch
    .command('rename')
    .description('Rename a local branch.')
    .argument('<from>')
    .argument('<to>')
    .action(async (from: string, to: string) => {
      const result = await renameBranch(await repo(), { from, to });
      say(`renamed ${from} to ${result.name}`);
    });

  branch
    .command('delete')
    .description('Delete a local branch; refuses one whose commits are merged nowhere unless --force.')
    .argument('<name>')
    .option('--force', 'delete even when its commits are not merged')
    .action(async (name: string, options: { force?: boolean }) => {
      const result = await deleteBranch(await repo(), { name, force: options.force ?? false });
      say(`deleted ${result.name} (was ${result.sha.slice(0, 7)}; restore with: mlw branch create ${result.name} ${result.sha})`);
    });

  branch
    .command('merge')
    .description('Merge a branch into the current one (fast-forward when possible); --abort a conflicted merge.')
    .argument('[name]')
    .option('--no-ff', 'always make a merge commit')
    .option('--abort', 'abort the merge in progress')
    .option('--stash', STASH_HELP)
    .action(async (name: string | undefined, options: StashOption & { ff: boolean; abort?: boolean }) => {
      if (!options.abort && name === undefined) throw new UsageError('branch merge: give the branch to merge (or --abort)');
      const result = await mergeBranch(await repo(), { name, noFastForward: !options.ff, abort: options.abort ?? false, stash: options.stash ?? false });
      if (result.outcome === 'conflicts') {
        say(stashNote(result.stash));
        throw new GitError('merge-conflict', `${conflictMessage(name ?? '', result.conflicts)} (mlw branch merge --abort)`, result.conflicts);
      }
      say(`${result.outcome}: ${describeHead(result.head)}`, stashNote(result.stash));
    });
}

function registerFlow(program: Command): void {
  const flow = program.command('flow').description('git-flow: feature, release and hotfix branches (prefixes and bases from gitflow.* config).');
  for (const kind of ['feature', 'release', 'hotfix'] as const satisfies readonly FlowKind[]) {
    const group = flow.command(kind).description(kind === 'feature' ? 'feature branches off develop' : kind === 'release' ? 'release branches off develop, tagged when finished' : 'hotfix branches off main, tagged when finished');
    group
      .command('start')
      .argument('<name>', kind === 'feature' ? 'the feature name' : 'the version')
      .option('--stash', STASH_HELP)
      .action(async (name: string, options: StashOption) => {
        const result = await flowStart(await repo(), { kind, name, stash: options.stash ?? false });
        say(`started ${result.branch} from ${result.base}`, stashNote(result.stash));
      });
    group
      .command('finish')
      .argument('<name>', kind === 'feature' ? 'the feature name' : 'the version')
      .option('-m, --message <text>', 'the tag message')
      .option('--keep', 'keep the branch')
      .option('--stash', STASH_HELP)
      .action(async (name: string, options: StashOption & { message?: string; keep?: boolean }) => {
        const result = await flowFinish(await repo(), { kind, name, tagMessage: options.message, keepBranch: options.keep ?? false, stash: options.stash ?? false });
        say(
          `merged ${result.branch} into ${result.mergedInto.join(' and ')}${result.tag ? `, tagged ${result.tag}` : ''}${result.deleted ? `, deleted ${result.branch}` : ''}`,
          describeHead(result.head),
          stashNote(result.stash),
        );
      });
  }
}

function registerSync(program: Command): void {
  const syncCommand = program.command('sync').description('Fetch, pull (fast-forward only unless --rebase) and push the current branch.');
  syncCommand
    .command('fetch')
    .option('--remote <name>', 'the remote (default: upstream remote, else origin)')
    .action(async (options: { remote?: string }) => {
      const result = await fetchRemote(await repo(), { remote: options.remote, prune: true, ...progress() });
      say(`fetched ${result.remote}`);
    });
  syncCommand
    .command('pull')
    .option('--remote <name>', 'the remote (default: upstream remote, else origin)')
    .option('--rebase', 'rebase onto the upstream instead of fast-forwarding only')
    .option('--stash', STASH_HELP)
    .action(async (options: StashOption & { remote?: string; rebase?: boolean }) => {
      const result = await pullBranch(await repo(), { remote: options.remote, rebase: options.rebase ?? false, stash: options.stash ?? false, ...progress() });
      say(`${result.outcome}: ${describeHead(result.head)}`, stashNote(result.stash));
    });
  syncCommand
    .command('push')
    .option('--remote <name>', 'the remote (default: upstream remote, else origin)')
    .action(async (options: { remote?: string }) => {
      const result = await pushBranch(await repo(), { remote: options.remote, ...progress() });
      say(`pushed ${result.branch} to ${result.remote}${result.upstreamSet ? ` (upstream set to ${result.remote}/${result.branch})` : ''}`);
    });
}
