/**
 * Output locks across processes: a living holder refuses an overlapping DAG run at once (naming
 * itself), a disjoint one goes ahead, and a holder killed with SIGKILL leaves a lock that the next
 * run recovers instead of waiting on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { acquireOutputLock } from '../../../agent/src/pipeline/lock';
import { OutputsLockedError } from '../../../agent/src/pipeline/errors';

const REPO = resolve(__dirname, '..', '..', '..');

async function startHolder(root: string, outputs: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'lock-holder.ts'), root, ...outputs], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => ['exited'])])) as string[];
  assert.equal(line, 'locked');
  return child;
}

void describe('output locks', () => {
  void test('a living holder refuses overlapping outputs; its lock is recovered once it is SIGKILLed', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'mlw-lock-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const holder = await startHolder(root, ['build/features', 'model.pkl']);
    t.after(() => holder.kill('SIGKILL'));

    await assert.rejects(acquireOutputLock(root, ['build/features/train.csv'], 'second'), (error: unknown) => {
      assert.ok(error instanceof OutputsLockedError);
      assert.match(error.message, new RegExp(`build/features/train\\.csv is being written by the lock-holder test child \\(pid ${holder.pid} `));
      return true;
    });
    const disjoint = await acquireOutputLock(root, ['other/out.txt'], 'disjoint');
    assert.deepEqual(disjoint.recovered, []);
    await disjoint.release();

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const taken = await acquireOutputLock(root, ['build'], 'after the kill');
    assert.deepEqual(taken.recovered, [`the lock-holder test child (pid ${holder.pid})`]);
    assert.equal(readdirSync(join(root, '.mlw', 'locks')).filter((name) => name.endsWith('.lock')).length, 1);
    await taken.release();
    assert.equal(existsSync(taken.path), false);
  });
});
