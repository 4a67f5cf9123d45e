/**
 * The git helper process (agent/src/git/spawner.ts): git started through it gives the same output,
 * exit codes and errors as git started directly, for input on stdin and output over many frames;
 * and a helper that dies fails its calls with a message, after which git is started directly again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enableGitHelper, gitSpawner } from '../../../agent/src/git/spawner';
import { runGit, GitCommandError } from '../../../agent/src/git/runner';
import { commitFile, git, soloRepo } from './helpers';

async function helperUp(): Promise<NonNullable<ReturnType<typeof gitSpawner>>> {
  enableGitHelper();
  for (let attempt = 0; attempt < 200; attempt++) {
    const helper = gitSpawner();
    if (helper !== undefined) return helper;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the helper never came up');
}

void test('git through the helper: output, stdin, a large output, exit codes and a program that is not there', async (t) => {
  const dir = soloRepo(t);
  for (let index = 0; index < 3; index++) commitFile(dir, `f${index}.txt`, `${index}\n`, `commit ${index}`);
  const helper = await helperUp();

  const log = await runGit(dir, ['log', '--format=%H %s'], { profile: 'read' });
  assert.equal(log.stdout, `${git(dir, 'log', '--format=%H %s')}\n`);

  const head = git(dir, 'rev-parse', 'HEAD');
  const fromStdin = await runGit(dir, ['rev-list', '--stdin'], { profile: 'read', input: `${head}\n` });
  assert.equal(fromStdin.stdout.trim().split('\n').length, 4);

  // Far more than one pipe read: the output arrives in many frames and must be put back in order.
  const big = await helper.run({ file: 'git', args: ['hash-object', '-w', '--stdin'], cwd: dir, env: { PATH: process.env.PATH ?? '' }, input: 'x'.repeat(3_000_000), maxBuffer: 1 << 20 });
  assert.equal(big.exitCode, 0);
  const many = await helper.run({ file: 'git', args: ['cat-file', '-p', big.stdout.trim()], cwd: dir, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1 << 30 });
  assert.ok(many.stdout === 'x'.repeat(3_000_000), `3,000,000 bytes back in order (got ${many.stdout.length})`);
  const over = await helper.run({ file: 'git', args: ['cat-file', '-p', big.stdout.trim()], cwd: dir, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1000 });
  assert.equal(over.exitCode, undefined);
  assert.match(over.startError ?? '', /over 1000 bytes/);

  await assert.rejects(runGit(dir, ['rev-parse', '--verify', 'no-such-ref'], { profile: 'read' }), (error: unknown) => {
    assert.ok(error instanceof GitCommandError);
    assert.equal(error.exitCode, 128);
    return true;
  });
  const missing = await helper.run({ file: 'no-such-program-mlw', args: [], cwd: dir, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1000 });
  assert.equal(missing.exitCode, undefined);
  assert.match(missing.startError ?? '', /ENOENT/);
});

void test('a helper that dies fails what it was running with a message; later calls start git directly, then a new helper', async (t) => {
  const dir = soloRepo(t);
  const helper = await helperUp();
  const running = helper.run({ file: 'sleep', args: ['5'], cwd: dir, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1000 });
  (helper as unknown as { helper: { kill: () => void } }).helper.kill();
  const result = await running;
  assert.equal(result.exitCode, undefined);
  assert.match(result.startError ?? '', /helper process exited/);
  const direct = await runGit(dir, ['rev-parse', '--git-dir'], { profile: 'read' });
  assert.equal(direct.stdout.trim(), '.git');
  assert.notEqual(await helperUp(), helper, 'a new helper');
});
