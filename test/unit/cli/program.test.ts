import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram, MODULES_OF_COMMAND } from '../../../agent/src/cli/program';

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

function commandTree(command: Command): string[] {
  return command.commands.flatMap((sub) => [sub.name(), ...commandTree(sub).map((name) => `${sub.name()} ${name}`)]);
}

void test('each top-level command, loaded alone, has exactly the subcommands and options it has in the full program', async () => {
  const full = await buildProgram();
  const topLevel = full.commands.map((command) => command.name());
  assert.deepEqual([...topLevel].sort(), Object.keys(MODULES_OF_COMMAND).sort(), 'MODULES_OF_COMMAND names every command');
  for (const name of topLevel) {
    const alone = (await buildProgram([name])).commands.find((command) => command.name() === name);
    const inFull = full.commands.find((command) => command.name() === name)!;
    assert.ok(alone, `${name} is registered when it is the first word`);
    assert.deepEqual(commandTree(alone), commandTree(inFull), `${name} has the same subcommands`);
    assert.deepEqual(
      alone.options.map((option) => option.flags),
      inFull.options.map((option) => option.flags),
      `${name} has the same options`,
    );
  }
});

void test('run as `mlw`, node starts without NODE_EXTRA_CA_CERTS and gets it back (bin/mlw.js: its sh line)', () => {
  mlw('--version'); // builds dist/ when missing
  // Node reads the file named at start-up and warns when it cannot; `mlw` defers it, so no warning.
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(root, 'no-such-bundle.pem') };
  const asNode = spawnSync(process.execPath, [cli, '--version'], { cwd: root, encoding: 'utf8', env });
  assert.equal(asNode.status, 0);
  assert.match(asNode.stderr, /Ignoring extra certs from .*no-such-bundle\.pem/, 'node itself reads the variable at start-up');
  const asMlw = spawnSync(cli, ['--version'], { cwd: root, encoding: 'utf8', env });
  assert.equal(asMlw.status, 0, asMlw.stderr);
  assert.equal(asMlw.stdout, asNode.stdout);
  assert.doesNotMatch(asMlw.stderr, /extra certs/);
});
