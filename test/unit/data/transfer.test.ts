/**
 * push / fetch / pull through a directory remote, whose small objects take the synchronous paths
 * (read whole, hashed in memory, written from the kept bytes). Each fast path is held to the
 * general one: a pull that keeps the verified bytes gives the same workspace, cache and stat cache
 * as one that keeps none (copies from the cache) and as a fetch then a checkout that hashes
 * everything again; python3 is the oracle of the folder's hash.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { md5OfBytes } from '../../../agent/src/data/hashing';
import { nativeTransfer } from '../../../agent/src/data/native-transfer';
import { StatCache } from '../../../agent/src/data/stat-cache';
import type { TransferProgress } from '../../../agent/src/data/transfer';
import { DataService } from '../../../agent/src/data/service';
import { VerifiedObjects } from '../../../agent/src/data/verified-objects';
import { awkwardTree, pythonDvcHash, quietLog, tempDir, writeTree } from './fixture';

/** Every file under `root` (relative path → bytes and mode), `.tmp` leftovers included. */
function snapshot(root: string): Map<string, { bytes: string; mode: number }> {
  const files = new Map<string, { bytes: string; mode: number }>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(root, path), { bytes: md5OfBytes(readFileSync(path)), mode: statSync(path).mode });
    }
  };
  if (existsSync(root)) walk(root);
  return files;
}

function remoteConfig(remote: string, cacheType?: string): string {
  return `[core]\n    remote = store\n${cacheType ? `[cache]\n    type = ${cacheType}\n` : ''}['remote "store"']\n    url = ${remote}\n`;
}

/**
 * A dataset of awkward names, 1,200 files of 1–9 KiB (enough for the second thread, past a yield of
 * the loops and several 1 MiB slabs), duplicates, files of sizes around the read buffers and the
 * small-object limit, and one large file.
 */
async function pushedDataset(t: { after: (fn: () => void) => void }): Promise<{ root: string; remote: string; service: DataService }> {
  const root = tempDir(t);
  const remote = join(tempDir(t, 'mlw-remote-'), 'store');
  writeTree(join(root, 'data'), awkwardTree);
  mkdirSync(join(root, 'data', 'many'), { recursive: true });
  mkdirSync(join(root, 'data', 'medium'), { recursive: true });
  for (let index = 0; index < 1200; index++) writeFileSync(join(root, 'data', 'many', `f${index}.bin`), randomBytes(1024 + ((index * 997) % 8192)));
  writeTree(join(root, 'data'), { 'copy/a.txt': 'same bytes', 'copy/b.txt': 'same bytes' });
  writeFileSync(join(root, 'data', 'large.bin'), randomBytes((4 << 20) + 5));
  // Around the reads' buffers (64 KiB on the thread, 256 KiB here) and the small-object limit.
  for (const size of [65535, 65536, 65537, 200_000, 262_144, 262_145, 1_000_000, (4 << 20) - 1, 4 << 20]) writeFileSync(join(root, 'data', 'medium', `m${size}.bin`), randomBytes(size));
  writeTree(root, { '.dvc/config': remoteConfig(remote) });
  const service = new DataService({ cwd: root, log: quietLog });
  await service.add(['data']);
  let last: TransferProgress | undefined;
  const pushed = await service.push([], undefined, (progress) => (last = progress));
  assert.deepEqual(pushed.failed, []);
  // A first push takes its byte total from the pointer, which counts the duplicate twice.
  assert.deepEqual([last?.done, last?.files, last?.bytes, last?.totalBytes], [true, last?.totalFiles, pushed.bytes, pushed.bytes + 'same bytes'.length]);
  return { root, remote, service };
}

/** Every file of the clone's dataset is in its stat cache with the file's own inode, mtime and size. */
function assertStatCacheMatches(root: string, dataset = 'data'): void {
  const state = StatCache.open(join(root, '.dvc', 'tmp', 'mlw-state.sqlite'), quietLog);
  try {
    const entries = state.loadUnder(dataset);
    const files = [...snapshot(join(root, dataset)).keys()];
    assert.equal(entries.size, files.length);
    for (const file of files) {
      const stats = statSync(join(root, dataset, file));
      const entry = entries.get(`${dataset}/${file.split(sep).join('/')}`);
      assert.deepEqual([entry?.ino, entry?.mtimeMs, entry?.size], [stats.ino, stats.mtimeMs, stats.size], file);
      assert.equal(entry?.md5, md5OfBytes(readFileSync(join(root, dataset, file))), file);
    }
  } finally {
    state.close();
  }
}

function clone(t: { after: (fn: () => void) => void }, from: string, remote: string, cacheType?: string): { root: string; service: DataService } {
  const root = tempDir(t, 'mlw-clone-');
  writeTree(root, { '.dvc/config': remoteConfig(remote, cacheType), 'data.dvc': readFileSync(join(from, 'data.dvc'), 'utf8') });
  return { root, service: new DataService({ cwd: root, log: quietLog }) };
}

/** Which loop moves the small objects of a push or pull here: transfer-js.test.ts runs this file on the JavaScript one. */
const loop = process.env.MLW_NATIVE_TRANSFER === '0' ? 'JavaScript' : 'native';

void describe(`transfers through a directory remote (${loop} transfer loop)`, () => {
  void test(`the ${loop} transfer loop is the one in use`, () => {
    // npm test builds the native module (scripts/build.mjs): a machine where it did not build or
    // load fails here, not silently on the JavaScript path.
    const state = nativeTransfer();
    assert.equal(state.inUse, loop === 'native', state.inUse ? 'native in use' : state.reason);
  });

  void test('push sends every object complete under its name and no temporary file; a second push moves nothing', async (t) => {
    const { root, remote, service } = await pushedDataset(t);
    const objects = snapshot(join(remote, 'files', 'md5'));
    assert.equal([...objects.keys()].filter((name) => name.endsWith('.tmp')).length, 0);
    for (const [name, { bytes }] of objects) {
      const id = name.replace(/[/\\]/, '');
      if (id.endsWith('.dir')) continue;
      assert.equal(bytes, id, `${name} hashes to its name`);
    }
    assert.deepEqual(snapshot(join(remote, 'files', 'md5')), snapshot(join(root, '.dvc', 'cache', 'files', 'md5')));
    const again = await service.push([]);
    assert.equal(again.transferred, 0);
  });

  void test('a cancelled push stops between objects on both threads; what went up is complete, and the next push sends only the rest', async (t) => {
    const root = tempDir(t);
    const remote = join(tempDir(t, 'mlw-remote-'), 'store');
    mkdirSync(join(root, 'data'), { recursive: true });
    for (let index = 0; index < 3000; index++) writeFileSync(join(root, 'data', `f${index}.bin`), `${index}:${'x'.repeat(index % 3000)}`);
    writeTree(root, { '.dvc/config': remoteConfig(remote) });
    const service = new DataService({ cwd: root, log: quietLog });
    await service.add(['data']);
    const cancel = new AbortController();
    await assert.rejects(
      service.push([], undefined, (progress) => {
        if (progress.files > 0) cancel.abort();
      }, cancel.signal),
      (error: Error) => error.name === 'AbortError',
    );
    const sent = snapshot(join(remote, 'files', 'md5'));
    assert.equal([...sent.keys()].filter((name) => name.endsWith('.tmp')).length, 0, 'no temporary file is left');
    for (const [name, { bytes }] of sent) assert.equal(bytes, name.replace(/[/\\]/, ''), `${name} is complete`);
    assert.ok(sent.size < 3001, `${sent.size} objects went up before the cancel`);
    let last: TransferProgress | undefined;
    const resumed = await service.push([], undefined, (progress) => (last = progress));
    assert.deepEqual([resumed.transferred + resumed.skipped, resumed.skipped, resumed.failed], [3001, sent.size, []]);
    assert.equal(last?.totalBytes, resumed.bytes, 'a resumed push counts the bytes of exactly the objects it sends');
  });

  void test('objects missing from the local cache are reported by either thread, the listing stays home, and an object the remote has is not missed', async (t) => {
    const root = tempDir(t);
    const remote = join(tempDir(t, 'mlw-remote-'), 'store');
    mkdirSync(join(root, 'data'), { recursive: true });
    for (let index = 0; index < 2000; index++) writeFileSync(join(root, 'data', `f${index}.bin`), `${index}:${'y'.repeat(index % 500)}`);
    writeFileSync(join(root, 'model.bin'), 'a single-file dataset');
    writeTree(root, { '.dvc/config': remoteConfig(remote) });
    const service = new DataService({ cwd: root, log: quietLog });
    const [folder, single] = await service.add(['data', 'model.bin']);
    const cacheObject = (md5: string): string => join(root, '.dvc', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2));
    // Every 40th file (50, spread over the <2 hex> folders both threads claim), and the single file.
    const lost = new Map<string, string>([[single!.md5, 'a single-file dataset']]);
    for (let index = 0; index < 2000; index += 40) {
      const bytes = `${index}:${'y'.repeat(index % 500)}`;
      lost.set(md5OfBytes(bytes), bytes);
    }
    for (const md5 of lost.keys()) rmSync(cacheObject(md5));

    const pushed = await service.push([]);
    const failures = new Map(pushed.failed.map((entry) => [entry.md5, entry.error]));
    assert.deepEqual(
      [...failures].sort(),
      [...[...lost.keys()].map((md5) => [md5, 'not in the local cache']), [folder!.md5, 'not sent: some of its files failed']].sort(),
      'each missing object is named, and the listing stays home: a remote never lists what it lacks',
    );
    assert.equal(pushed.transferred, 2000 - 50, 'every other file went up');

    // Once the remote has the lost objects (another machine pushed them), nothing is missing.
    for (const [md5, bytes] of lost) {
      mkdirSync(join(remote, 'files', 'md5', md5.slice(0, 2)), { recursive: true });
      writeFileSync(join(remote, 'files', 'md5', md5.slice(0, 2), md5.slice(2)), bytes);
    }
    const again = await service.push([]);
    assert.deepEqual([again.failed, again.transferred], [[], 1], 'only the listing went up');
  });

  void test('a pull writes the same workspace, cache and stat cache whether it writes a new folder as it fetches, keeps the verified bytes, keeps none, or hashes everything again', async (t) => {
    const { root, remote } = await pushedDataset(t);
    const expected = pythonDvcHash(join(root, 'data')).md5;
    const results = [];
    for (const [how, cacheType] of [
      ['pull into no folder (written as fetched)', undefined],
      ['pull into no folder (written as fetched, copy mode)', 'copy'],
      ['pull into an empty folder (kept bytes)', undefined],
      ['fetch + checkout keeping no bytes', undefined],
      ['fetch + checkout, no verified objects', undefined],
    ] as const) {
      const cloned = clone(t, root, remote, cacheType);
      if (how.startsWith('pull')) {
        if (how.includes('empty folder')) mkdirSync(join(cloned.root, 'data'));
        await cloned.service.pull([]);
        assert.deepEqual(readdirSync(cloned.root).sort(), ['.dvc', 'data', 'data.dvc'], `${how}: no staging folder is left`);
        assertStatCacheMatches(cloned.root);
      } else {
        const verified = how.includes('keeping no bytes') ? new VerifiedObjects(0) : undefined;
        assert.deepEqual((await cloned.service.fetch([], verified ? { verified } : {})).failed, []);
        await cloned.service.checkout([], verified ? { verified } : {});
      }
      assert.equal(pythonDvcHash(join(cloned.root, 'data')).md5, expected, how);
      const status = (await cloned.service.status([]))[0]!;
      assert.deepEqual([status.workspace, status.cache], ['clean', 'complete'], how);
      results.push({ how, workspace: snapshot(join(cloned.root, 'data')), cache: snapshot(join(cloned.root, '.dvc', 'cache', 'files')) });
    }
    for (const other of results.slice(1)) {
      assert.deepEqual(other.workspace, results[0]!.workspace, `${other.how}: same workspace files and modes`);
      assert.deepEqual(other.cache, results[0]!.cache, `${other.how}: same cache`);
    }
  });

  void test('a pull of two new folders that share files writes every copy of every file, on either thread, with its own stats', async (t) => {
    const root = tempDir(t);
    const remote = join(tempDir(t, 'mlw-remote-'), 'store');
    // Every object is in both datasets, and twice in the second: each chain crosses the folders.
    for (let index = 0; index < 1100; index++) {
      const bytes = randomBytes(512 + ((index * 331) % 4096)).toString('base64');
      writeTree(root, { [`left/f${index}.bin`]: bytes, [`right/a/f${index}.bin`]: bytes, [`right/b/g${index}.bin`]: bytes });
    }
    writeTree(root, { '.dvc/config': remoteConfig(remote) });
    const service = new DataService({ cwd: root, log: quietLog });
    await service.add(['left', 'right']);
    assert.deepEqual((await service.push([])).failed, []);
    const cloned = tempDir(t, 'mlw-clone-');
    writeTree(cloned, { '.dvc/config': remoteConfig(remote), 'left.dvc': readFileSync(join(root, 'left.dvc'), 'utf8'), 'right.dvc': readFileSync(join(root, 'right.dvc'), 'utf8') });
    const pulled = await new DataService({ cwd: cloned, log: quietLog }).pull([]);
    assert.deepEqual(
      pulled.checkout.map((result) => [result.path, result.written]),
      [
        ['left', 1100],
        ['right', 2200],
      ],
    );
    for (const dataset of ['left', 'right']) {
      assert.equal(pythonDvcHash(join(cloned, dataset)).md5, pythonDvcHash(join(root, dataset)).md5, dataset);
      assertStatCacheMatches(cloned, dataset);
    }
    assert.deepEqual(readdirSync(cloned).sort(), ['.dvc', 'left', 'left.dvc', 'right', 'right.dvc'], 'no staging folder is left');
  });

  void test('corrupt small objects on the remote are refused by either thread, never enter the cache, and pull checks out nothing', async (t) => {
    const { root, remote } = await pushedDataset(t);
    // Neighbours in the listing, so one is fetched by each thread.
    const victims = ['many/f1.bin', 'many/f10.bin'].map((relpath) => md5OfBytes(readFileSync(join(root, 'data', relpath))));
    for (const victim of victims) writeFileSync(join(remote, 'files', 'md5', victim.slice(0, 2), victim.slice(2)), 'tampered!!');
    const cloned = clone(t, root, remote);
    const fetched = await cloned.service.fetch([]);
    assert.deepEqual(fetched.failed.map((failure) => failure.md5).sort(), [...victims].sort());
    for (const failure of fetched.failed) assert.match(failure.error, /corrupt/);
    const cached = snapshot(join(cloned.root, '.dvc', 'cache'));
    for (const victim of victims) assert.equal([...cached.keys()].some((name) => name.includes(victim.slice(2))), false, 'a corrupt object is not in the cache');
    assert.equal([...cached.keys()].filter((name) => name.endsWith('.tmp')).length, 0, 'no temporary file is left');
    const again = clone(t, root, remote);
    await assert.rejects(again.service.pull([]), /could not be fetched.*nothing was checked out/s);
    assert.deepEqual(readdirSync(again.root).sort(), ['.dvc', 'data.dvc'], 'neither the dataset folder nor its staging folder is there');
  });

  void test('objects the remote lacks are reported with the path that was not there, the rest are stored, and pull checks out nothing', async (t) => {
    const { root, remote } = await pushedDataset(t);
    const lost = ['many/f3.bin', 'many/f700.bin'].map((relpath) => md5OfBytes(readFileSync(join(root, 'data', relpath))));
    for (const id of lost) rmSync(join(remote, 'files', 'md5', id.slice(0, 2), id.slice(2)));
    const cloned = clone(t, root, remote);
    const fetched = await cloned.service.fetch([]);
    assert.deepEqual(
      fetched.failed.map((failure) => [failure.md5, failure.error]).sort(),
      lost.map((id) => [id, `ENOENT: no such file or directory, open '${join(remote, 'files', 'md5', id.slice(0, 2), id.slice(2))}'`]).sort(),
    );
    // many/, awkward names, copy/'s one object, large.bin, medium/ and the listing, less the lost.
    assert.equal(fetched.transferred, 1200 + Object.keys(awkwardTree).length + 1 + 1 + 9 + 1 - lost.length, 'every other object is stored');
    const cached = snapshot(join(cloned.root, '.dvc', 'cache'));
    assert.equal([...cached.keys()].filter((name) => name.endsWith('.tmp')).length, 0, 'no temporary file is left');
    const again = clone(t, root, remote);
    await assert.rejects(again.service.pull([]), /could not be fetched.*nothing was checked out/s);
  });

  void test('a pull into a new folder removes the staging folder a killed pull left, and a cancelled one leaves neither folder', async (t) => {
    const { root, remote } = await pushedDataset(t);
    const cloned = clone(t, root, remote);
    writeTree(cloned.root, { '.data.mlw-pull/many/f1.bin': 'half-written by a killed pull' });
    const cancel = new AbortController();
    await assert.rejects(
      // Cancelled at the first object of the dataset (the listing's own progress has totalFiles 0):
      // progress is reported at most every 100 ms after that, and a fast machine pulls all 1,200
      // files sooner, so a later trigger would let the pull finish first.
      cloned.service.pull([], {}, (progress) => {
        if (progress.totalFiles > 1 && progress.files >= 1) cancel.abort();
      }, cancel.signal),
      (error: Error) => error.name === 'AbortError',
    );
    assert.deepEqual(readdirSync(cloned.root).sort(), ['.dvc', 'data.dvc']);
    writeTree(cloned.root, { '.data.mlw-pull/many/f1.bin': 'half-written by a killed pull' });
    const pulled = await cloned.service.pull([]);
    assert.equal(pulled.checkout[0]!.written, 1200 + Object.keys(awkwardTree).length + 3 + 9);
    assert.deepEqual(readdirSync(cloned.root).sort(), ['.dvc', 'data', 'data.dvc']);
    assert.equal(pythonDvcHash(join(cloned.root, 'data')).md5, pythonDvcHash(join(root, 'data')).md5);
  });
});
