import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const cli = join(root, 'bin', 'mlw.js');

function mlw(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(join(root, 'dist', 'agent.js'))) {
    spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  }
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

void test('mlw --help lists the commands and exits 0', () => {
  const { status, stdout } = mlw('--help');
  assert.equal(status, 0);
  assert.match(stdout, /Usage: mlw/);
  assert.match(stdout, /validate/);
  assert.match(stdout, /agent/);
});

void test('an unknown command is bad usage: exit 2 with a message on stderr', () => {
  const { status, stdout, stderr } = mlw('no-such-command');
  assert.equal(status, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /unknown command 'no-such-command'/);
});

void test('agent without --stdio is bad usage: exit 2 naming the missing flag', () => {
  const { status, stderr } = mlw('agent');
  assert.equal(status, 2);
  assert.match(stderr, /--stdio/);
});
