/**
 * The Docker build-context digest: what changes it (Dockerfile, a context file, its mode, build
 * args, target) and what does not (a file .dockerignore excludes, mlw's own .mlw folder, a second
 * look at unchanged files); and the stat-keyed hash cache that lets the second look read no file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { snapshotContext, type DockerBuildSpec } from '../../../agent/src/env/context';
import { EnvError } from '../../../agent/src/env/errors';
import { HashCache } from '../../../agent/src/env/hash-cache';

interface TestContext {
  after: (fn: () => void) => void;
}

function contextDir(t: TestContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-env-context-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) write(root, path, content);
  return root;
}

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

function spec(root: string, extra: Partial<DockerBuildSpec> = {}): DockerBuildSpec {
  return { dockerfile: join(root, 'Dockerfile'), context: root, args: {}, ...extra };
}

const digestOf = (build: DockerBuildSpec): string => snapshotContext(build, HashCache.inMemory()).digest;

const BASE = {
  Dockerfile: 'FROM mlw-test/busybox:latest\nCOPY . /app\n',
  'src/train.py': 'print("train")\n',
  'data/notes.txt': 'notes\n',
  '.dockerignore': 'data/\n*.log\n',
};

void describe('context digest', () => {
  void test('is stable for an unchanged context and lists the files the build sends, sorted', (t) => {
    const root = contextDir(t, { ...BASE, 'run.log': 'x' });
    const first = snapshotContext(spec(root), HashCache.inMemory());
    const second = snapshotContext(spec(root), HashCache.inMemory());
    assert.equal(first.digest, second.digest);
    assert.match(first.digest, /^[0-9a-f]{64}$/);
    assert.deepEqual(first.files, ['.dockerignore', 'Dockerfile', 'src/train.py']);
    assert.equal(first.dockerfile, 'Dockerfile');
  });

  void test('changes with the Dockerfile', (t) => {
    const root = contextDir(t, BASE);
    const before = digestOf(spec(root));
    write(root, 'Dockerfile', `${BASE.Dockerfile}RUN true\n`);
    assert.notEqual(digestOf(spec(root)), before);
  });

  void test('changes with a context file, a new file and a file mode', (t) => {
    const root = contextDir(t, BASE);
    const original = digestOf(spec(root));
    write(root, 'src/train.py', 'print("train v2")\n');
    const edited = digestOf(spec(root));
    assert.notEqual(edited, original);
    write(root, 'src/extra.py', '');
    const added = digestOf(spec(root));
    assert.notEqual(added, edited);
    chmodSync(join(root, 'src/extra.py'), 0o755);
    assert.notEqual(digestOf(spec(root)), added);
  });

  void test('does not change with a file .dockerignore excludes, nor with .mlw at the top', (t) => {
    const root = contextDir(t, BASE);
    const before = digestOf(spec(root));
    write(root, 'data/notes.txt', 'other notes\n');
    write(root, 'data/new.bin', 'more data');
    write(root, 'debug.log', 'log line');
    write(root, '.mlw/runs.db', 'state');
    assert.equal(digestOf(spec(root)), before);
  });

  void test('changes with build args (any key or value) and the target, whatever the key order', (t) => {
    const root = contextDir(t, BASE);
    const plain = digestOf(spec(root));
    const withArgs = digestOf(spec(root, { args: { A: '1', B: '2' } }));
    assert.notEqual(withArgs, plain);
    assert.equal(digestOf(spec(root, { args: { B: '2', A: '1' } })), withArgs);
    assert.notEqual(digestOf(spec(root, { args: { A: '1', B: '3' } })), withArgs);
    assert.notEqual(digestOf(spec(root, { target: 'train' })), plain);
  });

  void test('an exception (!pattern) brings a file back from an ignored folder', (t) => {
    const root = contextDir(t, { ...BASE, '.dockerignore': 'data/\n!data/keep.txt\n', 'data/keep.txt': 'kept' });
    assert.deepEqual(snapshotContext(spec(root), HashCache.inMemory()).files, ['.dockerignore', 'Dockerfile', 'data/keep.txt', 'src/train.py']);
  });

  void test('refuses a Dockerfile outside its context or excluded by .dockerignore, naming the files', (t) => {
    const root = contextDir(t, { ...BASE, 'sub/file.txt': 'x' });
    assert.throws(() => digestOf({ dockerfile: join(root, 'Dockerfile'), context: join(root, 'sub'), args: {} }), (error: Error) => {
      assert.ok(error instanceof EnvError);
      assert.match(error.message, /must be inside its build context/);
      return true;
    });
    write(root, '.dockerignore', 'Dockerfile\n');
    assert.throws(() => digestOf(spec(root)), /\.dockerignore excludes the Dockerfile Dockerfile/);
  });
});

void describe('hash cache', () => {
  void test('a second process reuses the hashes saved by the first while the files are unchanged', (t) => {
    const root = contextDir(t, BASE);
    const old = new Date(Date.now() - 60_000);
    for (const file of ['Dockerfile', 'src/train.py', '.dockerignore']) utimesSync(join(root, file), old, old);
    const cacheFile = join(root, '.mlw', 'env-hashes.json');
    const first = HashCache.load(cacheFile);
    const digest = snapshotContext(spec(root), first).digest;
    first.save();
    const saved = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, unknown> };
    assert.deepEqual(Object.keys(saved.entries).sort(), [join(root, '.dockerignore'), join(root, 'Dockerfile'), join(root, 'src/train.py')].sort());

    // Same size and mtime, other bytes: only a cache hit can still give the old digest (as git's
    // index would); this is how the test sees that the second look read no file.
    const train = join(root, 'src/train.py');
    const { size } = statSync(train);
    writeFileSync(train, 'x'.repeat(size));
    utimesSync(train, old, old);
    assert.equal(snapshotContext(spec(root), HashCache.load(cacheFile)).digest, digest);
    // A fresh cache reads the files and sees the change.
    assert.notEqual(snapshotContext(spec(root), HashCache.inMemory()).digest, digest);
  });

  void test('a file changed just now is hashed but not remembered (racy clean)', (t) => {
    const root = contextDir(t, BASE);
    const cacheFile = join(root, 'hashes.json');
    const cache = HashCache.load(cacheFile);
    snapshotContext(spec(root), cache);
    cache.save();
    const saved = (() => {
      try {
        return Object.keys((JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, unknown> }).entries);
      } catch {
        return [];
      }
    })();
    assert.deepEqual(saved, []);
  });

  void test('a torn or foreign cache file starts empty instead of failing', (t) => {
    const root = contextDir(t, BASE);
    const cacheFile = join(root, 'hashes.json');
    writeFileSync(cacheFile, '{"version": 1, "entries": {"x": [1,');
    assert.equal(snapshotContext(spec(root), HashCache.load(cacheFile)).digest, digestOf(spec(root)));
  });
});
