/** `mlw data …` as a user runs it (the CLI from source through tsx): output, --json, exit codes 0/1/2. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { formatBytes } from '../../../agent/src/data/format';
import { md5OfBytes } from '../../../agent/src/data/hashing';
import { tempDir, writeTree } from './fixture';

const main = join(__dirname, '..', '..', '..', 'agent', 'src', 'main.ts');

function mlw(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, main, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

void describe('mlw data (CLI)', () => {
  void test('add, status --json, verify: 0; a corrupt object makes verify exit 1 naming it; bad usage exits 2', (t) => {
    const root = tempDir(t);
    writeTree(join(root, 'data'), { 'a b/ü.txt': 'one', 'x.txt': 'two' });
    const added = mlw(root, 'data', 'add', 'data', '--json');
    assert.equal(added.status, 0, added.stderr);
    const [result] = JSON.parse(added.stdout) as Array<{ path: string; nfiles: number }>;
    assert.deepEqual([result!.path, result!.nfiles], ['data', 2]);

    const status = mlw(root, 'data', 'status', '--json');
    assert.equal(status.status, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as Array<{ workspace: string }>)[0]!.workspace, 'clean');

    assert.equal(mlw(root, 'data', 'verify').status, 0);
    const object = join(root, '.dvc', 'cache', 'files', 'md5', md5OfBytes('two').slice(0, 2), md5OfBytes('two').slice(2));
    chmodSync(object, 0o644);
    writeFileSync(object, 'rot');
    const verify = mlw(root, 'data', 'verify');
    assert.equal(verify.status, 1);
    assert.match(verify.stdout, new RegExp(`corrupt: ${object.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    assert.equal(mlw(root, 'data', 'versions').status, 2, 'a missing argument is bad usage');
  });

  void test('ls: one folder, folders first with file counts, sizes and workspace states; --json is the protocol\'s; not in the cache is exit 1 saying to pull', (t) => {
    const root = tempDir(t);
    writeTree(join(root, 'data'), { 'a b/ü.txt': 'one', 'x.txt': 'two', 'empty': '' });
    assert.equal(mlw(root, 'data', 'add', 'data').status, 0);
    const listed = mlw(root, 'data', 'ls', 'data');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.split('\n').map((line) => line.trim().split(/\s{2,}/)), [['1 file', 'a b/'], ['0 B', 'clean', 'empty'], ['3 B', 'clean', 'x.txt'], ['']]);
    const json = mlw(root, 'data', 'ls', 'data', 'a b', '--json');
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { entries: Array<{ path: string }> }).entries.map((entry) => entry.path), ['data/a b/ü.txt']);
    assert.match(mlw(root, 'data', 'ls', 'data', '--limit', '1').stdout, /… 2 more \(--limit\)/);
    rmSync(join(root, '.dvc', 'cache'), { recursive: true });
    const missing = mlw(root, 'data', 'ls', 'data');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not in the cache; run mlw data pull data/);
  });

  void test('a broken pointer file is exit 1 with FILE:LINE on stderr; no .dvc folder is exit 1 with what to do', (t) => {
    const root = tempDir(t);
    assert.equal(mlw(root, 'data', 'status').status, 1);
    writeTree(root, { '.dvc/config': '', 'data.dvc': 'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: one\n  hash: md5\n  path: data\n' });
    const broken = mlw(root, 'data', 'status');
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /data\.dvc:3: outs\.0\.size: /);
  });
});

void describe('byte counts for people', () => {
  void test('whole bytes below a KiB (rates are fractional), one decimal above', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(41.09589041095891), '41 B');
    assert.equal(formatBytes(1023.6), '1.0 KiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
  });
});
