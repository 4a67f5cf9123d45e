/**
 * The dataset file browser (mlw/data/files, `mlw data ls`) on real repositories: nested folders, an
 * empty file, names with spaces, accents, CJK and an astral-plane emoji; folders first, each level
 * by code point as DVC sorts; md5s checked against python3; the workspace state of each file from
 * the stat cache; a past version by git revision; the cap on a large folder; the errors a user can
 * act on; and the same request through the built agent over JSON-RPC (zod-checked both ways).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCodes, ResponseError } from 'vscode-jsonrpc/node';
import { DatasetFiles, DatasetFilesErrorData } from '../../../schemas/protocol/data';
import { DataService } from '../../../agent/src/data/service';
import { UserError } from '../../../agent/src/errors';
import { awkwardTree, git, pythonDvcHash, quietLog, tempDir, writeTree } from '../../unit/data/fixture';
import { startBuiltAgent, stopAgent } from '../lsp/agent-process';

function workspace(t: { after: (fn: () => void) => void }): { root: string; service: DataService } {
  const root = tempDir(t);
  git(root, 'init', '-q', '-b', 'main');
  return { root, service: new DataService({ cwd: root, log: quietLog }) };
}

const names = (files: DatasetFiles): string[] => files.entries.map((entry) => (entry.isDirectory ? `${entry.name}/` : entry.name));

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.details?.['code'], code);
    assert.match(error.message, message);
    return true;
  });
}

void describe('a dataset folder by folder', () => {
  void test('each level: folders first (with their file counts), then files, by code point; md5s as DVC computes them; sizes from the cache', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    const expected = pythonDvcHash(join(root, 'data'));
    await service.add(['data']);

    const top = await service.files('data');
    assert.deepEqual(names(top), ['emoji/', 'nested/', 'with space/', 'ünïcödé/', '日本語/', 'empty.txt', 'top.csv']);
    assert.deepEqual([top.path, top.md5, top.rev, top.folder, top.total], ['data', expected.md5, null, '', 7]);
    const emojiFolder = top.entries[0]!;
    assert.deepEqual(emojiFolder, { name: 'emoji', relpath: 'emoji', path: 'data/emoji', isDirectory: true, size: null, md5: null, nfiles: 2, workspace: null });
    const empty = top.entries.find((entry) => entry.name === 'empty.txt')!;
    assert.deepEqual(empty, { name: 'empty.txt', relpath: 'empty.txt', path: 'data/empty.txt', isDirectory: false, size: 0, md5: expected.files['empty.txt'], nfiles: null, workspace: 'clean' });

    // U+FFEE sorts before U+1F600 by code point (JS's `<` on UTF-16 would put the emoji first).
    const emoji = await service.files('data', { folder: 'emoji' });
    assert.deepEqual(names(emoji), ['\uffee-high-bmp.txt', '😀 smile.txt']);
    assert.deepEqual(
      emoji.entries.map((entry) => [entry.relpath, entry.path, entry.md5, entry.size, entry.workspace]),
      [
        ['emoji/\uffee-high-bmp.txt', 'data/emoji/\uffee-high-bmp.txt', expected.files['emoji/\uffee-high-bmp.txt'], 3, 'clean'],
        ['emoji/😀 smile.txt', 'data/emoji/😀 smile.txt', expected.files['emoji/😀 smile.txt'], 6, 'clean'],
      ],
    );

    assert.deepEqual(names(await service.files('data', { folder: 'nested' })), ['deeper/']);
    const deepest = await service.files('data', { folder: '/nested/deeper/deepest/' });
    assert.equal(deepest.folder, 'nested/deeper/deepest', 'leading and trailing slashes are dropped');
    assert.deepEqual(names(deepest), ['leaf.bin']);
    assert.deepEqual(names(await service.files('data', { folder: 'with space' })), ['file name.txt']);
    assert.deepEqual(names(await service.files('data', { folder: '日本語' })), ['データ.txt']);
    assert.deepEqual(names(await service.files('data.dvc', { folder: 'ünïcödé' })), ['naïve café.txt'], 'the pointer file names the dataset too');
  });

  void test("each file's workspace state comes from the stat cache, never from hashing: clean, modified, unknown until status hashes it, missing", async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    await service.add(['data']);
    const state = async (name: string): Promise<string | null> => (await service.files('data')).entries.find((entry) => entry.name === name)!.workspace;

    writeFileSync(join(root, 'data', 'empty.txt'), 'no longer empty');
    assert.equal(await state('empty.txt'), 'modified', 'a different size is modified without reading the file');
    writeFileSync(join(root, 'data', 'top.csv'), 'a,b\n9,9\n');
    assert.equal(await state('top.csv'), 'unknown', 'same size, new mtime: not hashed here');
    await service.status(['data']);
    assert.equal(await state('top.csv'), 'modified', 'status hashed it and recorded the md5');
    rmSync(join(root, 'data', 'top.csv'));
    assert.equal(await state('top.csv'), 'missing');
    const gone = (await service.files('data')).entries.find((entry) => entry.name === 'top.csv')!;
    assert.equal(gone.size, 8, 'the size is the cached version’s');
  });

  void test('--rev lists the version a commit records, which need not be checked out', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), { 'old/one.txt': '1', 'keep.txt': 'k' });
    await service.add(['data']);
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'first');
    const first = git(root, 'rev-parse', 'HEAD').trim();
    rmSync(join(root, 'data', 'old'), { recursive: true });
    writeTree(join(root, 'data'), { 'new/two.txt': '22' });
    await service.add(['data']);
    git(root, 'commit', '-q', '-am', 'second');

    assert.deepEqual(names(await service.files('data')), ['new/', 'keep.txt']);
    const then = await service.files('data', { rev: first });
    assert.deepEqual([then.rev, names(then)], [first, ['old/', 'keep.txt']]);
    const old = await service.files('data', { folder: 'old', rev: first });
    assert.deepEqual(
      old.entries.map((entry) => [entry.name, entry.size, entry.workspace]),
      [['one.txt', 1, 'missing']],
    );
    await rejectsWith(service.files('data', { folder: 'old' }), 'no-such-folder', /data has no folder "old"/);
  });

  void test('a large folder returns the first `limit` entries and the total; a single-file dataset is its one file', async (t) => {
    const { root, service } = workspace(t);
    const many: Record<string, string> = {};
    for (let index = 0; index < 1500; index++) many[`big/f${String(index).padStart(4, '0')}.txt`] = `${index}`;
    writeTree(join(root, 'data'), many);
    writeFileSync(join(root, 'model weights.bin'), 'weights');
    await service.add(['data', 'model weights.bin']);

    const capped = await service.files('data', { folder: 'big' });
    assert.deepEqual([capped.total, capped.entries.length, capped.entries[0]!.name, capped.entries.at(-1)!.name], [1500, 1000, 'f0000.txt', 'f0999.txt']);
    assert.equal((await service.files('data', { folder: 'big', limit: 5 })).entries.length, 5);
    assert.equal((await service.files('data')).entries[0]!.nfiles, 1500);

    const single = await service.files('model weights.bin');
    assert.deepEqual(single.entries, [
      { name: 'model weights.bin', relpath: 'model weights.bin', path: 'model weights.bin', isDirectory: false, size: 7, md5: single.md5, nfiles: null, workspace: 'clean' },
    ]);
    await rejectsWith(service.files('model weights.bin', { folder: 'x' }), 'no-such-folder', /is a single file/);
  });

  void test('errors say what to do: not tracked, listing not in the cache (pull), no such folder; a folder that leaves the dataset is refused', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), { 'a/b.txt': 'b' });
    const [added] = await service.add(['data']);
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'data');

    await rejectsWith(service.files('other'), 'not-tracked', /other: not tracked .*mlw data add \S*other$/);
    await rejectsWith(service.files('data', { rev: 'HEAD~0', folder: 'zzz' }), 'no-such-folder', /data at HEAD~0 has no folder "zzz"/);
    await rejectsWith(service.files('data', { folder: 'a/b.txt' }), 'no-such-folder', /no folder "a\/b.txt"/);
    await assert.rejects(service.files('data', { folder: 'a/../..' }), /escapes the dataset/);

    rmSync(join(root, '.dvc', 'cache'), { recursive: true });
    await rejectsWith(service.files('data'), 'not-in-cache', new RegExp(`${added!.md5.replace('.', '\\.')} is not in the cache; run mlw data pull data$`));
    await rejectsWith(service.files('data', { rev: 'HEAD' }), 'not-in-cache', /mlw data pull data .*mlw data fetch --rev HEAD data/);
  });
});

void describe('mlw/data/files over JSON-RPC (the built agent)', () => {
  void test('answers a folder as the protocol declares it; errors carry their code; bad params name the field', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    await service.add(['data']);
    const agent = await startBuiltAgent(t, root);
    const { connection } = agent;

    const answer = DatasetFiles.parse(await connection.sendRequest('mlw/data/files', { path: 'data', folder: 'with space' }));
    assert.deepEqual(
      answer.entries.map((entry) => [entry.path, entry.size, entry.workspace]),
      [['data/with space/file name.txt', 6, 'clean']],
    );

    const failure = await connection.sendRequest('mlw/data/files', { path: 'data', folder: 'nope' }).then(
      () => assert.fail('expected an error'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof ResponseError);
    assert.deepEqual(DatasetFilesErrorData.parse(failure.data), { code: 'no-such-folder' });

    const bad = await connection.sendRequest('mlw/data/files', { path: 'data', limit: 0 }).then(
      () => assert.fail('expected an error'),
      (error: unknown) => error,
    );
    assert.ok(bad instanceof ResponseError);
    assert.equal(bad.code, ErrorCodes.InvalidParams);
    assert.match(bad.message, /limit/);
    assert.equal(await stopAgent(agent), 0);
  });
});
