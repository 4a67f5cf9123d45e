/**
 * The cache's object writer: objects written on this thread, then by a worker thread, each complete
 * under its final name (no temporary file left), whatever their size relative to a batch; a failure
 * in the worker reaches the caller; and an add big enough to hand off writes the same cache as DVC.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Cache } from '../../../agent/src/data/cache';
import { md5OfBytes } from '../../../agent/src/data/hashing';
import { objectWriter } from '../../../agent/src/data/object-writer';
import { DataService } from '../../../agent/src/data/service';
import { git, pythonDvcHash, quietLog, tempDir, writeTree } from './fixture';

/** Every file under the cache's object folders, as `<2 hex><rest>` → its bytes. */
function cachedObjects(cache: Cache): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  for (const prefix of readdirSync(cache.objectsRoot)) {
    for (const name of readdirSync(join(cache.objectsRoot, prefix))) found.set(prefix + name, readFileSync(join(cache.objectsRoot, prefix, name)));
  }
  return found;
}

void describe('the object writer', () => {
  void test('hashes and writes objects here, then through the worker: every md5 reported for its call, every object complete under its own name', async (t) => {
    const cache = new Cache(join(tempDir(t), 'cache'));
    const writer = objectWriter(cache, new Set(), { writtenHere: 3 });
    // Sizes around a batch (256 KiB): small ones, ones larger than a batch, one that fills a batch,
    // an empty one, and contents seen before (stored once, reported each time).
    const unique = [
      ...Array.from({ length: 200 }, (_, index) => randomBytes(index * 37)),
      randomBytes((1 << 20) + 5),
      randomBytes(1 << 20),
      Buffer.alloc(0),
      randomBytes((256 << 10) + 5),
      randomBytes(256 << 10),
    ];
    const contents = [...unique, unique[0]!, unique[150]!, unique[201]!];
    const reported: string[] = [];
    const reused = Buffer.alloc((2 << 20) + 8);
    try {
      for (const [index, content] of contents.entries()) {
        // The caller's buffer is reused straight away: the writer must have copied what it needs.
        content.copy(reused);
        writer.put(reused.subarray(0, content.length), (md5) => (reported[index] = md5));
        reused.fill(0xee);
      }
      await writer.finish();
    } finally {
      await writer.dispose();
    }
    assert.deepEqual(reported, contents.map((content) => md5OfBytes(content)));
    const expected = new Map(unique.map((content) => [md5OfBytes(content), content]));
    const written = cachedObjects(cache);
    assert.deepEqual([...written.keys()].sort(), [...expected.keys()].sort(), 'one file per object, no temporary file left');
    for (const [md5, bytes] of written) assert.ok(bytes.equals(expected.get(md5)!), md5);
  });

  void test('objects the cache already has are not written again, here or by the worker', async (t) => {
    const cache = new Cache(join(tempDir(t), 'cache'));
    const contents = Array.from({ length: 6 }, (_, index) => Buffer.from(`object ${index}`));
    const present = new Set(contents.map((content) => md5OfBytes(content)));
    const writer = objectWriter(cache, present, { writtenHere: 3 });
    try {
      for (const content of contents) writer.put(content, () => {});
      await writer.finish();
    } finally {
      await writer.dispose();
    }
    assert.equal(existsSync(cache.root), false, 'nothing written: the cache was said to hold every object');
  });

  void test('a write the worker cannot make fails finish, naming the object', async (t) => {
    const root = tempDir(t);
    writeFileSync(join(root, 'cache'), 'a file where the cache folder should be');
    const writer = objectWriter(new Cache(join(root, 'cache')), new Set(), { writtenHere: 0 });
    const content = Buffer.from('some bytes');
    try {
      assert.equal(
        writer.put(content, () => {}),
        undefined,
      );
      await assert.rejects(writer.finish(), new RegExp(`could not write a cache object: .*${md5OfBytes(content).slice(2)}`));
    } finally {
      await writer.dispose();
    }
  });

  void test('an add of enough files to hand off to the worker fills the cache exactly as DVC 3 hashes them', async (t) => {
    const root = tempDir(t);
    git(root, 'init', '-q', '-b', 'main');
    const files: Record<string, string> = {};
    for (let index = 0; index < 700; index++) files[`part${index % 7}/file ${index}.txt`] = `content ${index % 650}\n`.repeat(index % 13);
    writeTree(join(root, 'data'), files);
    const expected = pythonDvcHash(join(root, 'data'));
    const [result] = await new DataService({ cwd: root, log: quietLog }).add(['data']);
    assert.equal(result!.md5, expected.md5);
    const written = cachedObjects(new Cache(join(root, '.dvc', 'cache')));
    const objects = new Set(Object.values(expected.files));
    assert.deepEqual([...written.keys()].sort(), [...objects, expected.md5].sort(), 'every object and the listing, no temporary file left');
    for (const [md5, bytes] of written) if (!md5.endsWith('.dir')) assert.equal(md5OfBytes(bytes), md5);
  });
});
