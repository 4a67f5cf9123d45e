/**
 * Real repositories in temp dirs for the git service tests: a bare origin and clones working as
 * teammates. Author and committer are fixed, and the user's global/system git config is kept out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepo, type Repo } from '../../../agent/src/git/repo';

const gitHome = mkdtempSync(join(tmpdir(), 'mlw-git-home-'));
const emptyGlobalConfig = join(gitHome, 'gitconfig');
writeFileSync(emptyGlobalConfig, '');
process.once('exit', () => rmSync(gitHome, { recursive: true, force: true }));
Object.assign(process.env, {
  GIT_AUTHOR_NAME: 'Alice Tester',
  GIT_AUTHOR_EMAIL: 'alice@example.invalid',
  GIT_COMMITTER_NAME: 'Alice Tester',
  GIT_COMMITTER_EMAIL: 'alice@example.invalid',
  GIT_CONFIG_GLOBAL: emptyGlobalConfig,
  GIT_CONFIG_NOSYSTEM: '1',
});

/** Runs git for a test's own setup and checks (not through the service). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd();
}

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'mlw-git-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a file and commits it; returns the new commit. */
export function commitFile(cwd: string, path: string, content: string, message = `change ${path}`): string {
  writeFileSync(join(cwd, path), content);
  git(cwd, 'add', '--', path);
  git(cwd, 'commit', '-q', '-m', message);
  return git(cwd, 'rev-parse', 'HEAD');
}

export interface Team {
  readonly dir: string;
  readonly origin: string;
  readonly alice: string;
  readonly bob: string;
}

/** A bare origin with one commit on main, cloned by alice and bob. */
export function team(t: { after: (fn: () => void) => void }): Team {
  const dir = tempDir(t);
  const origin = join(dir, 'origin.git');
  git(dir, 'init', '-q', '--bare', '-b', 'main', origin);
  const alice = join(dir, 'alice');
  git(dir, 'clone', '-q', origin, alice);
  git(alice, 'switch', '-q', '-c', 'main');
  commitFile(alice, 'README.md', 'hello\n', 'first');
  git(alice, 'push', '-q', '-u', 'origin', 'main');
  const bob = join(dir, 'bob');
  git(dir, 'clone', '-q', origin, bob);
  return { dir, origin, alice, bob };
}

/** A fresh repository with one commit on main. */
export function soloRepo(t: { after: (fn: () => void) => void }): string {
  const dir = join(tempDir(t), 'repo');
  git(tempDir(t), 'init', '-q', '-b', 'main', dir);
  commitFile(dir, 'README.md', 'hello\n', 'first');
  return dir;
}

export function open(dir: string): Promise<Repo> {
  return openRepo(dir);
}

/** Everything that "the repository is exactly as it was" covers: refs, HEAD, index, work tree, stash. */
export function fingerprint(cwd: string): string {
  return [
    git(cwd, 'rev-parse', '--symbolic-full-name', 'HEAD'),
    git(cwd, 'rev-parse', 'HEAD'),
    git(cwd, 'for-each-ref', '--format=%(refname) %(objectname)'),
    git(cwd, 'status', '--porcelain=v1', '--untracked-files=all'),
    git(cwd, 'diff', '--cached'),
    git(cwd, 'diff'),
    git(cwd, 'stash', 'list'),
  ].join('\n---\n');
}

/** An assert.rejects predicate: a GitError with this code (and, optionally, these files). */
export function gitError(code: string, files?: readonly string[]): (error: unknown) => boolean {
  return (error) => {
    const actual = error as { code?: unknown; files?: unknown; message?: unknown };
    if (actual.code !== code) throw new Error(`expected a GitError '${code}', got ${String(actual.code)}: ${String(actual.message)}`);
    if (files && JSON.stringify([...(actual.files as string[])].sort()) !== JSON.stringify([...files].sort())) {
      throw new Error(`expected files ${JSON.stringify(files)}, got ${JSON.stringify(actual.files)}`);
    }
    return true;
  };
}
