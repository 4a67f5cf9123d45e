import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compareCodePoints, directoryHash, md5OfBytes, md5OfFile, pythonJsonString, serializeListing, sortListing } from '../../../agent/src/data/hashing';

/** Python itself is the oracle: json.dumps(listing, sort_keys=True), then md5 + '.dir'. */
function pythonDirectoryHash(listing: ReadonlyArray<{ md5: string; relpath: string }>): { md5: string; text: string } {
  const script = [
    'import sys, json, hashlib',
    'listing = json.loads(sys.stdin.read())',
    'listing.sort(key=lambda e: e["relpath"])',
    'text = json.dumps(listing, sort_keys=True)',
    'print(json.dumps({"md5": hashlib.md5(text.encode("utf-8")).hexdigest() + ".dir", "text": text}))',
  ].join('\n');
  const output = execFileSync('python3', ['-c', script], { input: JSON.stringify(listing), encoding: 'utf8' });
  return JSON.parse(output) as { md5: string; text: string };
}

const awkwardNames = [
  'plain.csv',
  'with space/file name.txt',
  'ünïcödé/naïve café.txt',
  '日本語/データ.bin',
  'emoji/😀 smile.txt',
  'emoji/\uffee-bmp-high.txt',
  'quote"and\\backslash.txt',
  'tab\tand\u007fdel.txt',
  'Zeta/a',
  'alpha/b',
  'a/b/c/d/deep.txt',
  'empty',
];

void describe('DVC 3 hashes', () => {
  void test('a directory hash equals what Python json.dumps(sort_keys=True) + md5 gives, non-ASCII and astral names included', () => {
    const listing = awkwardNames.map((relpath, index) => ({ md5: md5OfBytes(`content ${index}`), relpath }));
    const expected = pythonDirectoryHash(listing);
    const ours = directoryHash(listing);
    assert.equal(ours.bytes.toString('ascii'), expected.text);
    assert.equal(ours.md5, expected.md5);
  });

  void test('sorting is by code point, as Python sorts str (an astral character sorts after U+FFEE)', () => {
    const sorted = sortListing([
      { md5: '', relpath: 'emoji/😀 smile.txt' },
      { md5: '', relpath: 'emoji/\uffee-bmp-high.txt' },
    ]).map((entry) => entry.relpath);
    assert.deepEqual(sorted, ['emoji/\uffee-bmp-high.txt', 'emoji/😀 smile.txt']);
    assert.ok(compareCodePoints('a', 'b') < 0);
    assert.ok(compareCodePoints('ab', 'a') > 0);
    assert.equal(compareCodePoints('x', 'x'), 0);
  });

  void test('strings are escaped as ensure_ascii does: lowercase \\uXXXX, surrogate pairs above U+FFFF', () => {
    assert.equal(pythonJsonString('é'), '"\\u00e9"');
    assert.equal(pythonJsonString('😀'), '"\\ud83d\\ude00"');
    assert.equal(pythonJsonString('a"b\\c\n'), '"a\\"b\\\\c\\n"');
    assert.equal(pythonJsonString('\u007f'), '"\\u007f"');
    assert.equal(serializeListing([{ md5: 'x', relpath: 'y' }]), '[{"md5": "x", "relpath": "y"}]');
  });

  void test("a file's md5 is the md5 of its bytes, as md5sum computes it (multi-chunk and empty files)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlw-hash-'));
    try {
      const big = join(dir, 'big.bin');
      const bytes = Buffer.alloc(3 * (1 << 20) + 12345);
      for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 31 + (index >> 11)) & 0xff;
      writeFileSync(big, bytes);
      const empty = join(dir, 'empty');
      writeFileSync(empty, '');
      const md5sum = (path: string): string => execFileSync('md5sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
      assert.deepEqual(await md5OfFile(big), { md5: md5sum(big), size: bytes.length });
      assert.deepEqual(await md5OfFile(empty), { md5: 'd41d8cd98f00b204e9800998ecf8427e', size: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
