/**
 * A repository with N local branches (each one commit off main, all pushed to a bare origin so each
 * has an upstream; a third are one commit ahead, a third one behind) — for the listing test and
 * bench/git.ts. Built with fast-import and update-ref --stdin: seconds, not minutes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { git } from './helpers';

export function manyBranches(base: string, count: number): { dir: string; origin: string } {
  const origin = join(base, 'origin.git');
  const dir = join(base, 'work');
  git(base, 'init', '-q', '--bare', '-b', 'main', origin);
  git(base, 'init', '-q', '-b', 'main', dir);
  git(dir, 'remote', 'add', 'origin', origin);
  // One fast-import stream: main, then per branch a commit "b<i> tip" and its child "b<i> next".
  const lines: string[] = [];
  let mark = 1;
  const when = 1_700_000_000;
  const commit = (ref: string, message: string, parent: number | null, file: string): number => {
    const id = mark++;
    lines.push(`commit ${ref}`, `mark :${id}`, `author Bench <bench@example.invalid> ${when + id} +0000`, `committer Bench <bench@example.invalid> ${when + id} +0000`);
    lines.push(`data ${Buffer.byteLength(message)}`, message);
    if (parent !== null) lines.push(`from :${parent}`);
    lines.push(`M 644 inline ${file}`, `data 2`, `${id % 10}`, '');
    return id;
  };
  const root = commit('refs/heads/main', 'first', null, 'README.md');
  const tips: Array<{ tip: number; next: number }> = [];
  for (let index = 0; index < count - 1; index++) {
    const tip = commit(`refs/heads/b${index}`, `b${index} tip`, root, `f${index}.txt`);
    const next = commit(`refs/heads/b${index}-next`, `b${index} next`, tip, `f${index}.txt`);
    tips.push({ tip, next });
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: `${lines.join('\n')}\n` });
  // Push tips (or, for a third, the next commit: those branches are then behind) and main.
  const refspecs = ['refs/heads/main:refs/heads/main'];
  tips.forEach((_, index) => refspecs.push(index % 3 === 1 ? `refs/heads/b${index}-next:refs/heads/b${index}` : `refs/heads/b${index}:refs/heads/b${index}`));
  execFileSync('git', ['push', '-q', 'origin', ...refspecs], { cwd: dir, stdio: 'ignore' });
  git(dir, 'fetch', '-q', 'origin');
  // Delete the -next helpers; move a third ahead; set every upstream (one config write).
  const updates = tips.map((_, index) => `delete refs/heads/b${index}-next`);
  tips.forEach((_, index) => {
    if (index % 3 === 2) updates.push(`update refs/heads/b${index} ${git(dir, 'rev-parse', `refs/heads/b${index}-next`)}`);
  });
  execFileSync('git', ['update-ref', '--stdin'], { cwd: dir, input: `${updates.join('\n')}\n` });
  const config = tips.map((_, index) => `[branch "b${index}"]\n\tremote = origin\n\tmerge = refs/heads/b${index}\n`).join('');
  execFileSync('sh', ['-c', 'cat >> .git/config'], { cwd: dir, input: `[branch "main"]\n\tremote = origin\n\tmerge = refs/heads/main\n${config}` });
  git(dir, 'checkout', '-q', 'main');
  return { dir, origin };
}
