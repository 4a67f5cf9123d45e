/**
 * The workspace walk on awkward trees (symlinks inside the workspace, empty folders, names with
 * newlines and non-ASCII characters): the files it finds, and the fingerprint a clean status
 * compares with a folder's memo — the same whether the files are kept (walkDirectory) or not
 * (fingerprintDirectory), and different after any change to a file's name, inode, mtime or size.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openDataRepo, type DataRepo } from '../../../agent/src/data/repo';
import { objectWriter } from '../../../agent/src/data/object-writer';
import { FileHasher, fingerprintDirectory, hashFiles, walkDirectory } from '../../../agent/src/data/tree';
import { awkwardTree, quietLog, tempDir, writeTree } from './fixture';

const oddNames: Record<string, string> = {
  'line\nbreak.txt': 'newline in the name',
  'tab\there/carriage\rreturn.txt': 'control characters',
};

async function awkwardWorkspace(t: { after: (fn: () => void) => void }): Promise<{ repo: DataRepo; data: string }> {
  const root = tempDir(t);
  const repo = await openDataRepo(root, { log: quietLog, create: true });
  t.after(() => repo.close());
  const data = join(root, 'data');
  writeTree(data, { ...awkwardTree, ...oddNames });
  mkdirSync(join(data, 'empty folder', 'also empty'), { recursive: true });
  symlinkSync(join(data, 'top.csv'), join(data, 'link to top.csv'));
  symlinkSync(join(data, 'nested'), join(data, 'link to nested'));
  return { repo, data };
}

async function fingerprints(repo: DataRepo, data: string): Promise<[string, string]> {
  return [(await walkDirectory(repo, data)).fingerprint, await fingerprintDirectory(repo, data)];
}

void describe('the workspace walk', () => {
  void test('finds every file, follows symlinks that stay inside, leaves out empty folders', async (t) => {
    const { repo, data } = await awkwardWorkspace(t);
    const { files } = await walkDirectory(repo, data);
    const expected = [...Object.keys(awkwardTree), ...Object.keys(oddNames), 'link to top.csv', 'link to nested/deeper/deepest/leaf.bin'];
    assert.deepEqual(files.map((file) => file.relpath).sort(), expected.sort());
    for (const file of files) {
      const stats = statSync(file.absolute);
      assert.deepEqual([file.ino, file.mtimeMs, file.size], [stats.ino, stats.mtimeMs, stats.size], file.relpath);
      assert.equal(file.absolute, join(data, ...file.relpath.split('/')));
    }
  });

  void test('fingerprintDirectory gives the fingerprint walkDirectory gives, and both are stable', async (t) => {
    const { repo, data } = await awkwardWorkspace(t);
    const [walked, alone] = await fingerprints(repo, data);
    assert.equal(alone, walked);
    assert.deepEqual(await fingerprints(repo, data), [walked, walked]);
  });

  void test('the fingerprint changes with any file name, inode, mtime or size', async (t) => {
    const { repo, data } = await awkwardWorkspace(t);
    const seen = new Set<string>();
    const expectNew = async (what: string): Promise<void> => {
      const [walked, alone] = await fingerprints(repo, data);
      assert.equal(alone, walked, what);
      assert.ok(!seen.has(walked), `${what}: the fingerprint did not change`);
      seen.add(walked);
    };
    await expectNew('as written');
    const file = join(data, 'line\nbreak.txt');
    const { atime, mtime } = statSync(file);
    utimesSync(file, atime, new Date(mtime.getTime() + 1));
    await expectNew('mtime one millisecond later');
    writeFileSync(file, 'newline in the name, longer');
    utimesSync(file, atime, mtime);
    await expectNew('size changed, mtime put back');
    copyFileSync(file, `${file}.copy`);
    renameSync(`${file}.copy`, file);
    utimesSync(file, atime, mtime);
    await expectNew('replaced by a copy (a new inode), mtime put back');
    renameSync(join(data, '日本語', 'データ.txt'), join(data, '日本語', 'データ2.txt'));
    await expectNew('renamed');
    mkdirSync(join(data, 'empty folder', 'another'));
    const [walked] = await fingerprints(repo, data);
    assert.ok(seen.has(walked), 'an empty folder is not part of the fingerprint');
  });

  void test('a file that grew or shrank after the walk is refused, not hashed as it was walked', async (t) => {
    const { repo, data } = await awkwardWorkspace(t);
    const { files } = await walkDirectory(repo, data);
    appendFileSync(join(data, 'top.csv'), '3,4\n');
    await assert.rejects(hashFiles(repo, 'data', files), /top\.csv changed while it was being hashed/);
    const again = await walkDirectory(repo, data);
    writeFileSync(join(data, 'with space', 'file name.txt'), 'sp');
    await assert.rejects(hashFiles(repo, 'data', again.files), /file name\.txt changed while it was being hashed/);
  });
  void test('hashing files as the walk finds them (add) gives what walking and then hashing gives', async (t) => {
    const { repo, data } = await awkwardWorkspace(t);
    const many: Record<string, string> = {};
    for (let index = 0; index < 300; index++) many[`many/f${index}.txt`] = `file ${index % 290}\n`.repeat(index % 7);
    writeTree(data, many);
    // Above the small-file size: streamed after the walk, in its own place in the results.
    writeFileSync(join(data, 'large.bin'), Buffer.alloc(5 << 20, 7));
    // A file the stat cache knows: its recorded md5 is taken, not its bytes'.
    const known = statSync(join(data, 'top.csv'));
    repo.state.putMany([['data/top.csv', { ino: known.ino, mtimeMs: known.mtimeMs, size: known.size, md5: 'f'.repeat(32) }]]);

    const walked = await walkDirectory(repo, data);
    const expected = await hashFiles(repo, 'data', walked.files);
    // writtenHere: 2, so that most objects go through the worker thread.
    const store = objectWriter(repo.cache, await repo.cache.listAll(), { writtenHere: 2 });
    try {
      const hasher = new FileHasher(repo, 'data', { store });
      const streamed = await walkDirectory(repo, data, (file) => hasher.take(file));
      const result = await hasher.finish();
      assert.equal(streamed.fingerprint, walked.fingerprint);
      assert.deepEqual(streamed.files, walked.files);
      assert.deepEqual(result.files, expected.files);
      assert.deepEqual(result.fresh, expected.fresh);
    } finally {
      await store.dispose();
    }
    assert.equal(expected.files.find((file) => file.relpath === 'top.csv')?.md5, 'f'.repeat(32));
    assert.ok(expected.fresh.some(([key]) => key === 'data/large.bin'));
  });
});
