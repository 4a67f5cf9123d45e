/**
 * SmallFileCopier (agent/src/data/small-copy.ts), on real files: the bytes arrive whole at every
 * size around its buffer, the new file is an ordinary writable one, and a destination that exists
 * is refused rather than overwritten.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SmallFileCopier } from '../../../agent/src/data/small-copy';
import { tempDir } from './fixture';

void describe('SmallFileCopier', () => {
  void test('copies empty, one-byte, buffer-sized and multi-buffer files exactly, one copier for all', (t) => {
    const dir = tempDir(t);
    const copier = new SmallFileCopier();
    for (const size of [0, 1, 4096, 256 << 10, (256 << 10) + 1, 3 * (256 << 10) - 5]) {
      const source = join(dir, `in-${size}`);
      const bytes = Buffer.alloc(size);
      for (let index = 0; index < size; index++) bytes[index] = (index * 31 + size) & 0xff;
      writeFileSync(source, bytes);
      const destination = join(dir, `out-${size}`);
      copier.copySync(source, destination);
      assert.deepEqual(readFileSync(destination), bytes, `${size} bytes`);
    }
  });

  void test('a read-only source gives a writable copy; an existing destination is refused and kept', (t) => {
    const dir = tempDir(t);
    const copier = new SmallFileCopier();
    const source = join(dir, 'object');
    writeFileSync(source, 'cache object');
    chmodSync(source, 0o444);
    copier.copySync(source, join(dir, 'copy'));
    assert.equal(statSync(join(dir, 'copy')).mode & 0o200, 0o200);
    writeFileSync(join(dir, 'taken'), 'the user\'s');
    // Refused by a copier that has not yet tried a reflink, and by one that has.
    assert.throws(() => new SmallFileCopier().copySync(source, join(dir, 'taken')), /EEXIST/);
    assert.throws(() => copier.copySync(source, join(dir, 'taken')), /EEXIST/);
    assert.equal(readFileSync(join(dir, 'taken'), 'utf8'), 'the user\'s');
  });
});
