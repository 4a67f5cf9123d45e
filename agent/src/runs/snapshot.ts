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

interface HeadState {
  readonly repoRoot: string;
  readonly commit: string | null;
  /** HEAD's tree, to skip the diff when the snapshot is exactly the commit. */
  readonly commitTree: string | null;
  readonly branch: string | null;
  /** The user's index file (absolute). */
  readonly userIndex: string;
}

/**
 * Where the repository is and what HEAD is, in one git process in the usual case: start-up time of
 * `mlw run` is measured against `docker run`, and each git process costs ~10 ms here.
 */
async function headState(cwd: string): Promise<HeadState> {
  const combined = await git(['rev-parse', 'HEAD', 'HEAD^{tree}', '--show-toplevel', '--git-path', 'index', '--symbolic-full-name', 'HEAD'], {
    cwd,
    okCodes: [128],
  });
  const lines = combined.stdout.split('\n');
  if (combined.code === 0 && lines.length >= 5) {
    const [commit, commitTree, top, index, symbolic] = lines as [string, string, string, string, string];
    return {
      repoRoot: resolve(top),
      commit,
      commitTree,
      branch: symbolic.startsWith('refs/heads/') ? symbolic.slice('refs/heads/'.length) : null,
      userIndex: resolveGitPath(cwd, index),
    };
  }
  // Not a repository, or one without commits yet: ask one question at a time.
  const repoRoot = await repositoryRoot(cwd);
  const branchResult = await git(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: repoRoot, okCodes: [1] });
  const index = (await git(['rev-parse', '--git-path', 'index'], { cwd: repoRoot })).stdout.trim();
  return {
    repoRoot,
    commit: null,
    commitTree: null,
    branch: branchResult.code === 0 ? branchResult.stdout.trim() : null,
    userIndex: resolveGitPath(repoRoot, index),
  };
}

export async function snapshotCode(options: SnapshotOptions): Promise<CodeSnapshot> {
  const scope = resolve(options.scope);
  // The usual case is a clean tree; the three questions it needs go out at once (a run's start-up
  // waits on them). Paths in both answers are relative to the repository's top (porcelain status,
  // ls-files --full-name); the answers are only used when HEAD exists and nothing is dirty.
  const [head, clean, scopeFiles] = await Promise.all([
    headState(scope),
    workingTreeIsClean(scope).catch(() => false),
    git(['ls-files', '-z', '--full-name', '--', '.'], { cwd: scope }).then((result) => result.stdout, () => undefined),
  ]);
  const { repoRoot, commit, commitTree, branch, userIndex } = head;
  const scopeRelative = insideRoot(repoRoot, scope);
  if (scopeRelative === undefined) throw new LaunchError(`${options.scope} is outside its repository ${repoRoot}`);
  const scopePath = scopeRelative.split(sep).join('/');

  if (commit !== null && commitTree !== null && clean && scopeFiles !== undefined) {
    // Nothing staged, changed or untracked: the code is HEAD's tree, and the user's index (equal
    // to HEAD) can be checked out as it is.
    const codeDir = await writeFiles(options.targetDir, scopeRelative, scopeFiles, repoRoot, {});
    return { repoRoot, commit, branch, tree: commitTree, diff: '', leftOut: [], codeDir, scopePath, dvcPointers: dvcPointersIn(scopeFiles, scopePath) };
  }

  await mkdir(options.scratchDir, { recursive: true });
  const indexFile = join(options.scratchDir, 'snapshot.index');
  try {
    await copyFile(userIndex, indexFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const env = { GIT_INDEX_FILE: indexFile };
  try {
    // `ls-files --others` reads the user's index, so it can run beside the update of ours.
    const [, leftOut] = await Promise.all([
      git(['add', '-u', '--', '.'], { cwd: repoRoot, env }),
      listUntracked(repoRoot, options.maxUntrackedBytes ?? DEFAULT_MAX_UNTRACKED_BYTES),
    ]);
    if (leftOut.included.length > 0) {
      await git(['add', '--pathspec-from-file=-', '--pathspec-file-nul'], {
        cwd: repoRoot,
        env,
        input: `${leftOut.included.join('\0')}\0`,
      });
    }
    const tree = (await git(['write-tree'], { cwd: repoRoot, env })).stdout.trim();
    const [diff, files] = await Promise.all([
      tree === commitTree
        ? ''
        : git(['diff', '--binary', '--no-color', '--no-ext-diff', commit ?? EMPTY_TREE, tree], { cwd: repoRoot }).then(
            (result) => result.stdout,
          ),
      git(['ls-files', '-z', '--', scopePath === '' ? '.' : scopePath], { cwd: repoRoot, env }).then((result) => result.stdout),
    ]);
    const codeDir = await writeFiles(options.targetDir, scopeRelative, files, repoRoot, env);
    const dvcPointers = dvcPointersIn(files, scopePath);
    return { repoRoot, commit, branch, tree, diff, leftOut: leftOut.leftOut, codeDir, scopePath, dvcPointers };
  } finally {
    await rm(indexFile, { force: true });
  }
}

/** Writes the listed files (NUL-separated, from the index `env` names) under targetDir; the scope's folder there. */
async function writeFiles(
  targetDir: string,
  scopeRelative: string,
  files: string,
  repoRoot: string,
  env: Readonly<Record<string, string>>,
): Promise<string> {
  await mkdir(targetDir, { recursive: true });
  const prefix = targetDir.endsWith(sep) ? targetDir : `${targetDir}${sep}`;
  if (files.length > 0) {
    await git(['checkout-index', '--force', '--stdin', '-z', `--prefix=${prefix}`], { cwd: repoRoot, env, input: files });
  }
  const codeDir = scopeRelative === '' ? targetDir : join(targetDir, scopeRelative);
  await mkdir(codeDir, { recursive: true });
  return codeDir;
}

/** DVC pointer files among the listed paths, relative to the scope (DVC's own folder left out). */
function dvcPointersIn(files: string, scopePath: string): string[] {
  const scopePrefix = scopePath === '' ? '' : `${scopePath}/`;
  return files
    .split('\0')
    .filter((path) => path.endsWith('.dvc') && !path.startsWith('.dvc/') && !path.includes('/.dvc/'))
    .map((path) => path.slice(scopePrefix.length));
}

/**
 * True when nothing is staged, modified, deleted or untracked (mlw's own state aside). Asked with
 * optional locks off, so git does not rewrite the user's index to refresh it.
 */
async function workingTreeIsClean(cwd: string): Promise<boolean> {
  // `.` is not passed: status covers the whole repository whichever folder it is asked from.
  const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all'], { cwd, env: { GIT_OPTIONAL_LOCKS: '0' } });
  return status.stdout
    .split('\0')
    .filter((entry) => entry !== '')
    .every((entry) => entry.startsWith('?? ') && isOwnState(entry.slice(3)));
}

function resolveGitPath(repoRoot: string, path: string): string {
  return isAbsolute(path) ? path : join(repoRoot, path);
}

/** Untracked, not ignored files: those to add, and those left out for size. */
async function listUntracked(repoRoot: string, maxBytes: number): Promise<{ included: string[]; leftOut: string[] }> {
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
  return { included, leftOut };
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
