/**
 * The datasets service on real files in temp folders, with real git: add → cache and pointer in
 * DVC 3's layout (hashes checked against python3), status, checkout (also at a past revision),
 * versions and diff, verify, a DVC repository built by hand from DVC's documented format, the
 * hardlink cache mode, and the safety rules (untracked work, corrupt objects, symlinks).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { Cache } from '../../../agent/src/data/cache';
import { md5OfBytes } from '../../../agent/src/data/hashing';
import { DataService } from '../../../agent/src/data/service';
import { awkwardTree, git, pythonDvcHash, quietLog, tempDir, writeTree } from './fixture';

function objectPath(root: string, md5: string): string {
  return join(root, '.dvc', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2));
}

function pick(status: { workspace: string; cache: string; missingObjects: number | null }): [string, string, number | null] {
  return [status.workspace, status.cache, status.missingObjects];
}

function workspace(t: { after: (fn: () => void) => void }): { root: string; service: DataService } {
  const root = tempDir(t);
  git(root, 'init', '-q', '-b', 'main');
  return { root, service: new DataService({ cwd: root, log: quietLog }) };
}

void describe('data add, status, checkout', () => {
  void test('a workspace that never tracked anything says so: tracksData is false until the first add', async (t) => {
    const { root, service } = workspace(t);
    assert.equal(await service.tracksData(), false);
    await assert.rejects(service.status([]), /no \.dvc folder here or above.*mlw data add PATH/);
    writeFileSync(join(root, 'a.txt'), 'a\n');
    await service.add(['a.txt']);
    assert.equal(await service.tracksData(), true);
    assert.deepEqual((await service.status([])).map((status) => status.path), ['a.txt']);
  });

  void test('add of a folder writes the pointer, cache objects and .dir listing exactly as DVC 3 (python3 as oracle)', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    const expected = pythonDvcHash(join(root, 'data'));
    const [result] = await service.add(['data']);
    assert.equal(result!.md5, expected.md5);
    assert.equal(result!.nfiles, Object.keys(awkwardTree).length);
    const size = Object.values(awkwardTree).reduce((total, content) => total + Buffer.byteLength(content), 0);
    assert.equal(
      readFileSync(join(root, 'data.dvc'), 'utf8'),
      `outs:\n- md5: ${expected.md5}\n  size: ${size}\n  nfiles: ${Object.keys(awkwardTree).length}\n  hash: md5\n  path: data\n`,
    );
    assert.equal(readFileSync(objectPath(root, expected.md5), 'utf8'), expected.listing);
    for (const [relpath, md5] of Object.entries(expected.files)) {
      assert.equal(md5OfBytes(readFileSync(objectPath(root, md5))), md5, relpath);
    }
    assert.match(readFileSync(join(root, '.gitignore'), 'utf8'), /^\/data$/m);
    assert.equal(readFileSync(join(root, 'data', 'emoji', '😀 smile.txt'), 'utf8'), 'astral', 'the user file is untouched');
  });

  void test('status: clean, then modified with the files added, removed and changed; an unchanged file is not hashed again', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    await service.add(['data']);
    let [status] = await service.status([]);
    assert.equal(status!.workspace, 'clean');
    assert.equal(status!.cache, 'complete');
    writeFileSync(join(root, 'data', 'top.csv'), 'a,b\n9,9\n');
    rmSync(join(root, 'data', 'empty.txt'));
    writeTree(join(root, 'data'), { 'new dir/ñew.txt': 'new' });
    [status] = await service.status(['data']);
    assert.equal(status!.workspace, 'modified');
    assert.deepEqual(status!.changes, { added: ['new dir/ñew.txt'], removed: ['empty.txt'], modified: ['top.csv'] });
    const [again] = await service.add(['data']);
    assert.equal(again!.hashed, 0, 'status already recorded the changed files in the stat cache');
  });

  void test('add with the stat cache knowing every file but the cache emptied copies each file in, byte for byte', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    // Past the copier's 256 KiB buffer, so that one file takes several reads and writes.
    writeFileSync(join(root, 'data', 'several-reads.bin'), Buffer.alloc(600_000, 7));
    const [first] = await service.add(['data']);
    rmSync(join(root, '.dvc', 'cache'), { recursive: true });
    const [again] = await service.add(['data']);
    assert.equal(again!.hashed, 0, 'nothing was read to hash: the objects came from the copy path');
    assert.equal(again!.md5, first!.md5);
    const listing = JSON.parse(readFileSync(objectPath(root, again!.md5), 'utf8')) as Array<{ md5: string; relpath: string }>;
    assert.equal(listing.length, Object.keys(awkwardTree).length + 1);
    for (const { md5, relpath } of listing) {
      assert.deepEqual(readFileSync(objectPath(root, md5)), readFileSync(join(root, 'data', ...relpath.split('/'))), relpath);
    }
    const [status] = await service.status([]);
    assert.deepEqual(pick(status!), ['clean', 'complete', 0]);
  });

  void test('a damaged stat cache (a crash mid-write: it is never fsynced) is started afresh and nothing else changes', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    const [first] = await service.add(['data']);
    const stateFile = join(root, '.dvc', 'tmp', 'mlw-state.sqlite');
    assert.ok(existsSync(stateFile));
    writeFileSync(stateFile, Buffer.alloc(8192, 0xa5));
    const warnings: string[] = [];
    const warned = new DataService({ cwd: root, log: { ...quietLog, warn: (message: string) => warnings.push(message) } });
    const [status] = await warned.status(['data']);
    assert.equal(status!.workspace, 'clean', 'the files are hashed again and still match');
    assert.match(warnings.join('\n'), /stat cache .*mlw-state\.sqlite is damaged/);
    const [again] = await service.add(['data']);
    assert.equal(again!.md5, first!.md5);
    assert.equal(again!.hashed, 0, 'the rebuilt cache knows every file again');
  });

  void test('a clean folder is recognised by its memo; a file changed with the same size, or renamed, is still seen', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    await service.add(['data']);
    const [clean] = await service.status([]);
    assert.deepEqual([clean!.workspace, clean!.cache, clean!.missingObjects], ['clean', 'complete', 0]);
    writeFileSync(join(root, 'data', 'top.csv'), 'a,b\n7,7\n'); // same size
    const [changed] = await service.status([]);
    assert.deepEqual(changed!.changes, { added: [], removed: [], modified: ['top.csv'] });
    writeFileSync(join(root, 'data', 'top.csv'), awkwardTree['top.csv']!);
    assert.equal((await service.status([]))[0]!.workspace, 'clean');
    renameSync(join(root, 'data', 'empty.txt'), join(root, 'data', 'empty2.txt'));
    const [renamed] = await service.status([]);
    assert.deepEqual(renamed!.changes, { added: ['empty2.txt'], removed: ['empty.txt'], modified: [] });
    // An object removed from the cache is reported even though the workspace is known clean.
    renameSync(join(root, 'data', 'empty2.txt'), join(root, 'data', 'empty.txt'));
    rmSync(objectPath(root, md5OfBytes('leaf')), { force: true });
    const [incomplete] = await service.status([]);
    assert.deepEqual([incomplete!.workspace, incomplete!.cache, incomplete!.missingObjects], ['clean', 'incomplete', 1]);
  });

  void test('the cache count of a clean folder is remembered while the cache stamp stands, and never from a racy stamp', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    await service.add(['data']);
    const objects = join(root, '.dvc', 'cache', 'files', 'md5');
    const cache = new Cache(join(root, '.dvc', 'cache'));
    assert.equal(await cache.stamp(), undefined, 'folders modified a moment ago give no stamp');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const age = (): void => {
      for (const prefix of readdirSync(objects)) utimesSync(join(objects, prefix), anHourAgo, anHourAgo);
    };
    age();
    assert.match((await cache.stamp()) ?? '', /^[0-9a-f]{32}$/);
    assert.deepEqual(pick((await service.status([]))[0]!), ['clean', 'complete', 0]);
    // Remove an object behind the stamp's back (its folder's mtime put back): the remembered count
    // is what answers — the proof that status did not list the cache again.
    const leaf = objectPath(root, md5OfBytes('leaf'));
    rmSync(leaf);
    age();
    assert.deepEqual(pick((await service.status([]))[0]!), ['clean', 'complete', 0]);
    // A real removal moves its folder's mtime (here: to another time, still old enough to trust),
    // the stamp changes, and the count is taken again.
    const halfAnHourAgo = new Date(Date.now() - 1_800_000);
    utimesSync(dirname(leaf), halfAnHourAgo, halfAnHourAgo);
    assert.deepEqual(pick((await service.status([]))[0]!), ['clean', 'incomplete', 1]);
  });

  void test('checkout restores deleted data, refuses to overwrite untracked changes unless forced', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), awkwardTree);
    await service.add(['data']);
    rmSync(join(root, 'data'), { recursive: true });
    const [restored] = await service.checkout([]);
    assert.equal(restored!.written, Object.keys(awkwardTree).length);
    assert.equal((await service.status([]))[0]!.workspace, 'clean');
    // Now the folder is known by its memo (no listing of its own): a checkout writes nothing.
    const [again] = await service.checkout([]);
    assert.deepEqual([again!.written, again!.removed], [0, 0]);
    assert.equal(readFileSync(join(root, 'data', 'ünïcödé', 'naïve café.txt'), 'utf8'), 'accents');

    writeFileSync(join(root, 'data', 'top.csv'), 'precious edit');
    writeFileSync(join(root, 'data', 'untracked.txt'), 'also precious');
    await assert.rejects(service.checkout(['data']), /checkout would overwrite or remove 2 file\(s\) whose content is not in the cache/);
    assert.equal(readFileSync(join(root, 'data', 'top.csv'), 'utf8'), 'precious edit');
    const [forced] = await service.checkout(['data'], { force: true });
    assert.deepEqual([forced!.written, forced!.removed], [1, 1]);
    assert.equal(readFileSync(join(root, 'data', 'top.csv'), 'utf8'), awkwardTree['top.csv']);
    assert.equal(existsSync(join(root, 'data', 'untracked.txt')), false);
  });

  void test('a single file: add, modify, checkout --rev of an earlier version; versions and diff from git history', async (t) => {
    const { root, service } = workspace(t);
    writeTree(root, { 'model.bin': 'version one' });
    await service.add(['model.bin']);
    git(root, 'add', 'model.bin.dvc', '.gitignore');
    git(root, 'commit', '-q', '-m', 'model v1');
    writeFileSync(join(root, 'model.bin'), 'version two, longer');
    await service.add(['model.bin']);
    git(root, 'commit', '-q', '-am', 'model v2');

    const versions = await service.versions('model.bin');
    assert.deepEqual(
      versions.map((version) => [version.message, version.md5, version.size]),
      [
        ['model v2', md5OfBytes('version two, longer'), 19],
        ['model v1', md5OfBytes('version one'), 11],
      ],
    );
    const diff = await service.diff('model.bin', 'HEAD~1', 'HEAD');
    assert.deepEqual([diff.added, diff.removed, diff.modified], [[], [], ['model.bin']]);

    await service.checkout(['model.bin'], { rev: 'HEAD~1' });
    assert.equal(readFileSync(join(root, 'model.bin'), 'utf8'), 'version one');
    assert.match(readFileSync(join(root, 'model.bin.dvc'), 'utf8'), new RegExp(md5OfBytes('version one')));
    assert.equal((await service.status([]))[0]!.workspace, 'clean');
  });

  void test('diff of two folder versions lists files added, removed, modified', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), { 'a.txt': '1', 'b/c.txt': '2', 'gone.txt': '3' });
    await service.add(['data']);
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'v1');
    writeTree(join(root, 'data'), { 'a.txt': 'changed', 'b/new.txt': 'n' });
    rmSync(join(root, 'data', 'gone.txt'));
    await service.add(['data']);
    git(root, 'commit', '-q', '-am', 'v2');
    const diff = await service.diff('data', 'HEAD~1');
    assert.deepEqual([diff.added, diff.removed, diff.modified], [['b/new.txt'], ['gone.txt'], ['a.txt']]);
    const versions = await service.versions('data');
    assert.deepEqual(versions.map((version) => version.nfiles), [3, 3]);
  });

  void test('verify finds a corrupt cache object, and checkout never writes it to the workspace', async (t) => {
    const { root, service } = workspace(t);
    writeTree(join(root, 'data'), { 'good.txt': 'good', 'bad.txt': 'will rot' });
    await service.add(['data']);
    assert.deepEqual((await service.verify([])).corrupt, []);
    const badObject = objectPath(root, md5OfBytes('will rot'));
    chmodSync(badObject, 0o644);
    writeFileSync(badObject, 'rotten!!');
    const report = await service.verify([]);
    assert.deepEqual(report.corrupt, [{ md5: md5OfBytes('will rot'), path: badObject }]);
    rmSync(join(root, 'data'), { recursive: true });
    await assert.rejects(service.checkout([]), /corrupt cache object/);
    assert.equal(existsSync(join(root, 'data', 'bad.txt')), false);
  });

  void test('checkout refuses to write through a symlink that leads out of the workspace', async (t) => {
    const { root, service } = workspace(t);
    const outside = tempDir(t, 'mlw-outside-');
    writeTree(join(root, 'data'), { 'sub/x.txt': 'x' });
    await service.add(['data']);
    rmSync(join(root, 'data'), { recursive: true });
    mkdirSync(join(root, 'data'));
    symlinkSync(outside, join(root, 'data', 'sub'));
    await assert.rejects(service.checkout([], { force: true }), /data\/sub:? (is )?a symlink that leads out of the workspace/);
    assert.equal(existsSync(join(outside, 'x.txt')), false);
  });

  void test('add refuses a folder holding a symlink out of the workspace', async (t) => {
    const { root, service } = workspace(t);
    const outside = tempDir(t, 'mlw-outside-');
    writeTree(outside, { 'secret.txt': 's' });
    writeTree(join(root, 'data'), { 'a.txt': 'a' });
    symlinkSync(join(outside, 'secret.txt'), join(root, 'data', 'link.txt'));
    await assert.rejects(service.add(['data']), /link\.txt: a symlink that leads out of the workspace/);
  });

  void test('cache.type = hardlink: workspace files become links to read-only cache objects', async (t) => {
    const { root, service } = workspace(t);
    mkdirSync(join(root, '.dvc'));
    writeFileSync(join(root, '.dvc', 'config'), '[cache]\n    type = hardlink,symlink\n');
    writeTree(join(root, 'data'), { 'a.txt': 'linked' });
    await service.add(['data']);
    const object = objectPath(root, md5OfBytes('linked'));
    assert.equal(statSync(join(root, 'data', 'a.txt')).ino, statSync(object).ino);
    assert.equal(statSync(object).mode & 0o222, 0);
    assert.equal((await service.status([]))[0]!.workspace, 'clean');
  });
});

void describe('an existing DVC repository, laid out by hand from DVC 3 documentation', () => {
  void test('its pointers, cache and config work as they are', async (t) => {
    const root = tempDir(t);
    git(root, 'init', '-q', '-b', 'main');
    // What `dvc init` + `dvc add data` + `dvc remote add -d` leave behind.
    writeTree(root, {
      '.dvc/.gitignore': '/config.local\n/tmp\n/cache\n',
      '.dvc/config': "[core]\n    remote = storage\n['remote \"storage\"']\n    url = ../remote-store\n",
      '.dvcignore': '# Add patterns of files dvc should ignore\n',
    });
    const source = tempDir(t, 'mlw-source-');
    writeTree(source, { 'images/cat 1.jpg': 'meow', 'labels.csv': 'cat,1\n', 'ñ/empty': '' });
    const expected = pythonDvcHash(source);
    for (const md5 of Object.values(expected.files)) writeTree(root, { [`.dvc/cache/files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`]: '' });
    for (const [relpath, md5] of Object.entries(expected.files)) writeFileSync(objectPath(root, md5), readFileSync(join(source, relpath)));
    writeTree(root, { [`.dvc/cache/files/md5/${expected.md5.slice(0, 2)}/${expected.md5.slice(2)}`]: expected.listing });
    writeTree(root, {
      'data.dvc': `outs:\n- md5: ${expected.md5}\n  size: 11\n  nfiles: 3\n  hash: md5\n  path: data\n`,
      '.gitignore': '/data\n',
    });
    const service = new DataService({ cwd: root, log: quietLog });
    const [before] = await service.status([]);
    assert.deepEqual([before!.workspace, before!.cache], ['missing', 'complete']);
    await service.checkout([]);
    assert.equal(readFileSync(join(root, 'data', 'images', 'cat 1.jpg'), 'utf8'), 'meow');
    const [after] = await service.status([]);
    assert.equal(after!.workspace, 'clean');
    const listed = await service.list();
    assert.deepEqual(listed, [{ path: 'data', pointerFile: 'data.dvc', md5: expected.md5, size: 11, nfiles: 3, isDirectory: true }]);
    // The relative remote url resolves against .dvc/, as DVC resolves it.
    const pushed = await service.push([]);
    assert.equal(pushed.transferred, 4);
    assert.ok(existsSync(join(root, 'remote-store', 'files', 'md5', expected.md5.slice(0, 2), expected.md5.slice(2))));
  });
});
