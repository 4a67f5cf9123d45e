/** Where hand-off sockets live, and which socket folders both sides refuse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryProblem, ensurePrivateDirectory, handOffDirectory, handOffSocketPath } from '../../../agent/src/runs/handoff-socket';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlw-handoff-socket-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

void test('the socket folder is $XDG_RUNTIME_DIR/mlw when set, else a per-user folder in the temp dir', () => {
  assert.equal(handOffDirectory({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/mlw');
  assert.equal(handOffDirectory({ XDG_RUNTIME_DIR: 'relative/dir' }), join(tmpdir(), `mlw-${process.getuid!()}`));
  assert.equal(handOffDirectory({}), join(tmpdir(), `mlw-${process.getuid!()}`));
});

void test('one socket per workspace folder, short enough for a unix socket however deep the folder', () => {
  const deep = `/${'very-long-folder-name/'.repeat(20)}workspace`;
  const path = handOffSocketPath(deep, '/run/user/1000/mlw');
  assert.ok(Buffer.byteLength(path) < 108, path);
  assert.equal(handOffSocketPath('/a/b/', '/d'), handOffSocketPath('/a/b', '/d'));
  assert.notEqual(handOffSocketPath('/a/b', '/d'), handOffSocketPath('/a/c', '/d'));
});

void test('a private folder is created 0700 and accepted; open, linked or foreign folders are refused', (t) => {
  const root = scratch(t);
  const created = join(root, 'fresh');
  assert.equal(ensurePrivateDirectory(created), undefined);
  assert.equal(directoryProblem(created), undefined);

  const open = join(root, 'open');
  mkdirSync(open);
  chmodSync(open, 0o755);
  assert.match(ensurePrivateDirectory(open) ?? '', /can be entered by other users \(mode 755\)/);

  const link = join(root, 'link');
  symlinkSync(created, link);
  assert.match(directoryProblem(link) ?? '', /is not a directory/);

  assert.match(directoryProblem(join(root, 'missing')) ?? '', /does not exist/);
});

void test('a folder owned by another user is refused', { skip: process.getuid?.() !== 0 ? 'needs root to give a folder to another user' : false }, (t) => {
  const foreign = join(scratch(t), 'foreign');
  mkdirSync(foreign, { mode: 0o700 });
  chownSync(foreign, 4242, 4242);
  assert.match(directoryProblem(foreign) ?? '', /belongs to another user \(uid 4242\)/);
});
