import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotCode } from '../../../agent/src/runs/snapshot';
import { LaunchError } from '../../../agent/src/runs/errors';
import { tempDir } from './helpers';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf8' });
}

function repo(t: Parameters<typeof tempDir>[0]): string {
  const root = tempDir(t, 'mlw-snap-');
  git(root, 'init', '-q', '-b', 'main');
  mkdirSync(join(root, 'proj/src'), { recursive: true });
  writeFileSync(join(root, 'proj/src/train.py'), 'print(1)\n');
  writeFileSync(join(root, 'proj/data.csv.dvc'), 'outs:\n- md5: 0123\n  path: data.csv\n');
  writeFileSync(join(root, 'other.txt'), 'outside the scope\n');
  writeFileSync(join(root, '.gitignore'), 'ignored.log\n');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'one');
  return root;
}

void test('the snapshot is HEAD plus uncommitted and new files, recorded as a tree and a diff; the index is untouched', async (t) => {
  const root = repo(t);
  writeFileSync(join(root, 'proj/src/train.py'), 'print(2)\n');
  writeFileSync(join(root, 'proj/src/new.py'), 'new\n');
  writeFileSync(join(root, 'proj/ignored.log'), 'ignored\n');
  writeFileSync(join(root, 'proj/big.bin'), Buffer.alloc(2048));
  const statusBefore = git(root, 'status', '--porcelain');
  const scratch = tempDir(t);
  const snapshot = await snapshotCode({ scope: join(root, 'proj'), targetDir: join(scratch, 'code'), scratchDir: scratch, maxUntrackedBytes: 1024 });

  assert.equal(git(root, 'status', '--porcelain'), statusBefore, "the user's index and tree are as they were");
  assert.equal(snapshot.commit, git(root, 'rev-parse', 'HEAD').trim());
  assert.equal(snapshot.branch, 'main');
  assert.equal(snapshot.scopePath, 'proj');
  assert.equal(snapshot.codeDir, join(scratch, 'code', 'proj'));
  assert.equal(readFileSync(join(snapshot.codeDir, 'src/train.py'), 'utf8'), 'print(2)\n');
  assert.equal(readFileSync(join(snapshot.codeDir, 'src/new.py'), 'utf8'), 'new\n');
  assert.equal(existsSync(join(snapshot.codeDir, 'ignored.log')), false, 'ignored files stay out');
  assert.equal(existsSync(join(snapshot.codeDir, 'big.bin')), false, 'untracked files over the limit stay out');
  assert.deepEqual(snapshot.leftOut, ['proj/big.bin']);
  assert.equal(existsSync(join(scratch, 'code', 'other.txt')), false, 'only the scope is written');
  assert.deepEqual(snapshot.dvcPointers, ['data.csv.dvc']);
  assert.match(snapshot.diff, /^\+print\(2\)$/m);
  assert.match(snapshot.diff, /new file mode .*\n.*\n--- \/dev\/null\n\+\+\+ b\/proj\/src\/new.py/);

  // The recorded commit plus the diff reproduce the tree exactly.
  const check = tempDir(t);
  git(check, 'clone', '-q', root, 'clone');
  const clone = join(check, 'clone');
  execFileSync('git', ['apply', '--binary', '--index', '-'], { cwd: clone, input: snapshot.diff });
  assert.equal(git(clone, 'write-tree').trim(), snapshot.tree);
});

void test('a clean tree gives an empty diff and the commit tree', async (t) => {
  const root = repo(t);
  const scratch = tempDir(t);
  const snapshot = await snapshotCode({ scope: root, targetDir: join(scratch, 'code'), scratchDir: scratch });
  assert.equal(snapshot.diff, '');
  assert.equal(snapshot.tree, git(root, 'rev-parse', 'HEAD^{tree}').trim());
  assert.equal(readFileSync(join(scratch, 'code', 'other.txt'), 'utf8'), 'outside the scope\n');
});

void test('a clean tree is written from the index without touching it: scope, pointers, own state ignored', async (t) => {
  const root = repo(t);
  mkdirSync(join(root, '.mlw'));
  writeFileSync(join(root, '.mlw/runs.db'), 'state');
  const index = join(root, '.git', 'index');
  const indexBefore = readFileSync(index);
  const scratch = tempDir(t);
  const snapshot = await snapshotCode({ scope: join(root, 'proj'), targetDir: join(scratch, 'code'), scratchDir: scratch });
  assert.deepEqual(readFileSync(index), indexBefore, "the user's index is byte for byte as it was");
  assert.deepEqual([snapshot.diff, snapshot.tree, snapshot.leftOut], ['', git(root, 'rev-parse', 'HEAD^{tree}').trim(), []]);
  assert.deepEqual(snapshot.dvcPointers, ['data.csv.dvc']);
  assert.equal(readFileSync(join(snapshot.codeDir, 'src/train.py'), 'utf8'), 'print(1)\n');
  assert.equal(existsSync(join(scratch, 'code', 'other.txt')), false, 'only the scope is written');
  assert.equal(existsSync(join(scratch, 'code', '.mlw')), false);
});

void test('a change that is only staged is still part of the snapshot', async (t) => {
  const root = repo(t);
  writeFileSync(join(root, 'proj/src/train.py'), 'print(3)\n');
  git(root, 'add', 'proj/src/train.py');
  const scratch = tempDir(t);
  const snapshot = await snapshotCode({ scope: root, targetDir: join(scratch, 'code'), scratchDir: scratch });
  assert.equal(readFileSync(join(scratch, 'code', 'proj/src/train.py'), 'utf8'), 'print(3)\n');
  assert.match(snapshot.diff, /^\+print\(3\)$/m);
});

void test('outside a git repository the snapshot refuses, saying what to do', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(
    snapshotCode({ scope: dir, targetDir: join(dir, 'code'), scratchDir: dir }),
    (error: unknown) => error instanceof LaunchError && /not inside a git repository.*git init/.test(error.message),
  );
});
