import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseListing } from '../../../agent/src/data/cache';
import { parsePointer, renderPointer } from '../../../agent/src/data/pointer';
import { checkRelpath } from '../../../agent/src/data/safety';

void describe('pointer files (DVC 3 format)', () => {
  void test('reads what DVC 3 writes for a folder', () => {
    const text = 'outs:\n- md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir\n  size: 21515\n  nfiles: 5\n  hash: md5\n  path: data\n';
    const pointer = parsePointer(text, '/w/data.dvc');
    assert.equal(pointer.md5, '3863d0e317dee0a55c4e59d2ec0eef33.dir');
    assert.equal(pointer.size, 21515);
    assert.equal(pointer.nfiles, 5);
    assert.equal(pointer.isDirectory, true);
    assert.equal(pointer.dataPath, '/w/data');
  });

  void test('writes DVC 3 keys in DVC order; an update keeps keys and comments it does not own', () => {
    assert.equal(
      renderPointer('/w/my data', { md5: 'a'.repeat(32), size: 3 }),
      `outs:\n- md5: ${'a'.repeat(32)}\n  size: 3\n  hash: md5\n  path: my data\n`,
    );
    const previous = '# keep me\nouts:\n- md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir\n  size: 1\n  nfiles: 1\n  hash: md5\n  path: data\n  desc: the training set\n';
    const updated = renderPointer('/w/data', { md5: `${'b'.repeat(32)}.dir`, size: 9, nfiles: 2 }, previous);
    assert.match(updated, /# keep me/);
    assert.match(updated, /desc: the training set/);
    const pointer = parsePointer(updated, '/w/data.dvc');
    assert.deepEqual([pointer.md5, pointer.size, pointer.nfiles], [`${'b'.repeat(32)}.dir`, 9, 2]);
  });

  void test('a broken pointer file is an error naming the file and the line', () => {
    assert.throws(() => parsePointer('outs:\n- md5: abc\n  path: a\n  path: b\n', '/w/x.dvc'), /^UserError: \/w\/x\.dvc:4: not valid YAML/);
    assert.throws(
      () => parsePointer('outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  path: x\n', '/w/x.dvc'),
      (error: Error) => error.message.startsWith('/w/x.dvc:2: outs.0.hash:') && /DVC 2/.test(error.message),
    );
    assert.throws(() => parsePointer('outs:\n- md5: nothex\n  hash: md5\n  path: x\n', '/w/x.dvc'), /^UserError: \/w\/x\.dvc:2: outs\.0\.md5: 32 hex digits/);
    assert.throws(() => parsePointer('outs:\n- md5: 0123456789abcdef0123456789abcdef\n  hash: md5\n  path: ../outside\n', '/w/x.dvc'), /x\.dvc: refused entry "\.\.\/outside"/);
  });
});

void describe('safety of .dir listings', () => {
  const md5 = '0123456789abcdef0123456789abcdef';
  for (const [relpath, reason] of [
    ['../escape', "escapes the dataset ('..')"],
    ['a/../../b', "escapes the dataset ('..')"],
    ['/etc/passwd', 'absolute path'],
    ['C:/Windows/x', 'drive letter'],
    ['c:x', 'drive letter'],
    ['a\0b', 'NUL'],
    ['a\\..\\b', 'backslash'],
    ['', 'empty path'],
  ] as const) {
    void test(`a relpath ${JSON.stringify(relpath)} is refused (${reason}), naming it`, () => {
      const listing = Buffer.from(JSON.stringify([{ md5, relpath: 'ok.txt' }, { md5, relpath }]));
      assert.throws(
        () => parseListing(listing, '/cache/ab/cdef.dir'),
        (error: Error) => error.message.includes('/cache/ab/cdef.dir') && error.message.includes(JSON.stringify(relpath)) && error.message.includes(reason),
      );
    });
  }

  for (const [what, json] of [
    ['not an array', { md5, relpath: 'a' }],
    ['an entry without md5', [{ md5, relpath: 'a' }, { relpath: 'b' }]],
    ['an md5 that is not 32 hex digits', [{ md5: 'ABC', relpath: 'a' }]],
    ['a relpath that is not a string', [{ md5, relpath: 7 }]],
    ['an entry that is not an object', [{ md5, relpath: 'a' }, null]],
  ] as const) {
    void test(`a listing with ${what} is refused as not a DVC directory listing, naming the file`, () => {
      assert.throws(
        () => parseListing(Buffer.from(JSON.stringify(json)), '/cache/ab/cdef.dir'),
        (error: Error) => error.message.startsWith('/cache/ab/cdef.dir: not a DVC directory listing (') && !error.message.includes('bad shape'),
      );
    });
  }

  for (const [what, relpaths] of [
    ['sorted, the two side by side', ['a', 'b', 'b', 'c']],
    ['unsorted, the two apart', ['c', 'a', 'b', 'a']],
    ['sorted until the second', ['a', 'b', 'c', 'a']],
  ] as const) {
    void test(`a relpath listed twice is refused, naming it (${what})`, () => {
      const listing = Buffer.from(JSON.stringify(relpaths.map((relpath) => ({ md5, relpath }))));
      assert.throws(
        () => parseListing(listing, '/cache/ab/cdef.dir'),
        (error: Error) => error.message === `/cache/ab/cdef.dir: ${JSON.stringify(relpaths.find((relpath, index) => relpaths.indexOf(relpath) !== index))} is listed twice`,
      );
    });
  }

  void test('a listing not sorted by relpath is read as it is', () => {
    const relpaths = ['z', 'b/x', 'a', 'b', 'ünï', 'B'];
    assert.deepEqual(
      parseListing(Buffer.from(JSON.stringify(relpaths.map((relpath) => ({ md5, relpath })))), 'x').map((entry) => entry.relpath),
      relpaths,
    );
  });

  void test('extra fields of an entry are accepted and dropped', () => {
    assert.deepEqual(parseListing(Buffer.from(JSON.stringify([{ md5, relpath: 'a', isexec: true }])), 'x'), [{ md5, relpath: 'a' }]);
  });

  void test('ordinary relpaths pass, including spaces and non-ASCII', () => {
    for (const relpath of ['a.txt', 'with space/x', 'ünï/😀', '..hidden/file', 'a..b']) checkRelpath(relpath, 'test');
  });
});
