/**
 * The code a run sees: the repository as it is now (HEAD plus uncommitted changes, including new
 * files git does not ignore), written to a private directory so later edits in the workspace cannot
 * change a running run. It is built in a throwaway git index, so the user's index and working tree
 * are never touched, and it is recorded as a git tree plus `git diff --binary HEAD <tree>`, enough
 * to reproduce it exactly from the commit.
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LaunchError } from './errors';
import { git } from './git';

export interface CodeSnapshot {
  /** Absolute path of the repository's top folder. */
  readonly repoRoot: string;
  /** HEAD's commit, or null in a repository without commits yet. */
  readonly commit: string | null;
  /** The checked-out branch, or null on a detached HEAD. */
  readonly branch: string | null;
  /** The tree of the exact code that runs. */
  readonly tree: string;
  /** From the commit to that tree; empty when the working tree was clean. */
  readonly diff: string;
  /** Untracked files left out because they exceed the size limit (data belongs in datasets). */
  readonly leftOut: readonly string[];
  /** Where the scope's files were written (targetDir plus the scope's path in the repository). */
  readonly codeDir: string;
  /** The scope, relative to the repository root ('' for all of it), with forward slashes. */
  readonly scopePath: string;
  /** DVC pointer files (`*.dvc`) in the snapshot, relative to the scope, forward slashes. */
  readonly dvcPointers: readonly string[];
}

export interface SnapshotOptions {
  /**
   * The folder of the repository whose files the run gets (the workspace folder); the recorded tree
   * and diff still cover the whole repository.
   */
  readonly scope: string;
  /** Where to write the code (created; must not exist or be empty). */
  readonly targetDir: string;
  /** A scratch folder for the temporary index. */
  readonly scratchDir: string;
  /** Untracked files larger than this are left out (default 20 MiB). */
  readonly maxUntrackedBytes?: number;
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const DEFAULT_MAX_UNTRACKED_BYTES = 20 * 1024 * 1024;

export async function repositoryRoot(cwd: string): Promise<string> {
  const result = await git(['rev-parse', '--show-toplevel'], { cwd, okCodes: [128] });
  if (result.code !== 0) {
    throw new LaunchError(
      `${cwd} is not inside a git repository: mlw pins every run to a commit. Run \`git init\` and commit your code first`,
    );
  }
  return resolve(result.stdout.trim());
}

export async function snapshotCode(options: SnapshotOptions): Promise<CodeSnapshot> {
  const repoRoot = await repositoryRoot(options.scope);
  const scopeRelative = insideRoot(repoRoot, resolve(options.scope));
  if (scopeRelative === undefined) throw new LaunchError(`${options.scope} is outside its repository ${repoRoot}`);
  const scopePath = scopeRelative.split(sep).join('/');
  const head = await git(['rev-parse', '--verify', '-q', 'HEAD'], { cwd: repoRoot, okCodes: [1] });
  const commit = head.code === 0 ? head.stdout.trim() : null;
  const branchResult = await git(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: repoRoot, okCodes: [1] });
  const branch = branchResult.code === 0 ? branchResult.stdout.trim() : null;

  await mkdir(options.scratchDir, { recursive: true });
  const indexFile = join(options.scratchDir, 'snapshot.index');
  const userIndex = resolveGitPath(repoRoot, (await git(['rev-parse', '--git-path', 'index'], { cwd: repoRoot })).stdout.trim());
  try {
    await copyFile(userIndex, indexFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const env = { GIT_INDEX_FILE: indexFile };
  try {
    await git(['add', '-u', '--', '.'], { cwd: repoRoot, env });
    const leftOut = await addUntracked(repoRoot, env, options.maxUntrackedBytes ?? DEFAULT_MAX_UNTRACKED_BYTES);
    const tree = (await git(['write-tree'], { cwd: repoRoot, env })).stdout.trim();
    const diff = (await git(['diff', '--binary', '--no-color', '--no-ext-diff', commit ?? EMPTY_TREE, tree], { cwd: repoRoot }))
      .stdout;
    await mkdir(options.targetDir, { recursive: true });
    const prefix = options.targetDir.endsWith(sep) ? options.targetDir : `${options.targetDir}${sep}`;
    const files = (await git(['ls-files', '-z', '--', scopePath === '' ? '.' : scopePath], { cwd: repoRoot, env })).stdout;
    if (files.length > 0) {
      await git(['checkout-index', '--force', '--stdin', '-z', `--prefix=${prefix}`], { cwd: repoRoot, env, input: files });
    }
    const codeDir = scopePath === '' ? options.targetDir : join(options.targetDir, scopeRelative);
    await mkdir(codeDir, { recursive: true });
    const scopePrefix = scopePath === '' ? '' : `${scopePath}/`;
    const dvcPointers = files
      .split('\0')
      .filter((path) => path.endsWith('.dvc') && !path.startsWith('.dvc/') && !path.includes('/.dvc/'))
      .map((path) => path.slice(scopePrefix.length));
    return { repoRoot, commit, branch, tree, diff, leftOut, codeDir, scopePath, dvcPointers };
  } finally {
    await rm(indexFile, { force: true });
  }
}

function resolveGitPath(repoRoot: string, path: string): string {
  return isAbsolute(path) ? path : join(repoRoot, path);
}

/** Adds untracked, not ignored files to the temporary index; returns those left out for size. */
async function addUntracked(repoRoot: string, env: Record<string, string>, maxBytes: number): Promise<string[]> {
  const listed = (await git(['ls-files', '--others', '--exclude-standard', '-z'], { cwd: repoRoot })).stdout
    .split('\0')
    .filter((path) => path !== '' && !isOwnState(path));
  const included: string[] = [];
  const leftOut: string[] = [];
  for (const path of listed) {
    const info = await stat(join(repoRoot, path)).catch(() => undefined);
    if (!info) continue;
    if (info.size > maxBytes) leftOut.push(path);
    else included.push(path);
  }
  if (included.length > 0) {
    await git(['add', '--pathspec-from-file=-', '--pathspec-file-nul'], {
      cwd: repoRoot,
      env,
      input: `${included.join('\0')}\0`,
    });
  }
  return leftOut;
}

/** mlw's own state and DVC's cache never belong to a run's code, even where they are not ignored. */
function isOwnState(path: string): boolean {
  const normalized = path.split(sep).join('/');
  return normalized.startsWith('.mlw/') || normalized.includes('/.mlw/') || normalized.startsWith('.dvc/cache/');
}

/** `path` relative to `root`, or undefined when it lies outside it. */
export function insideRoot(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '') return '';
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel;
}
