/**
 * Issue 3 benchmark: listing 5,000 local branches (each with an upstream, so also 5,000
 * remote-tracking branches) with ahead/behind, last commit (short sha, subject, author, date) and
 * merged-or-not. Target: median ≤ 300 ms and ≤ 2.0× `git for-each-ref` producing the same fields.
 *
 *   npx tsx bench/git.ts [--branches N] [--runs N]
 *
 * Measured side by side, alternating: (1) the service in-process (`listBranches`, what the agent
 * does per refresh: our own ahead/behind walk), (2) the same listing with git computing
 * ahead/behind and merged (`listBranchesFromGit`: what listBranches did before, and still does for
 * long histories), (3) the whole `mlw branch list --json` command (node start included, needs
 * `node scripts/build.mjs`), (4) the floor: one `git for-each-ref` with the same fields.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listBranches, listBranchesByWalk, listBranchesFromGit } from '../agent/src/git/branches';
import { openRepo } from '../agent/src/git/repo';
import { manyBranches } from '../test/integration/git/many-branches';
import { AGENT_V8_FLAGS } from '../extension/src/agent/launch';
import { inRuntime, median } from './measure';

const MLW = resolve(import.meta.dirname, '..', 'bin', 'mlw.js');
const PEER_FORMAT = '%(refname) %(HEAD) %(objectname:short) %(upstream) %(upstream:track) %(committerdate:relative) %(authorname) %(subject)';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

async function timed(action: () => unknown): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const count = option('--branches', 5000);
  const runs = option('--runs', 15);
  const base = mkdtempSync(join(tmpdir(), 'mlw-bench-git-'));
  try {
    const { dir } = manyBranches(base, count);
    const repo = await openRepo(dir);
    const check = await listBranches(repo, { includeRemote: true });
    if ((await listBranchesByWalk(repo, { includeRemote: true })) === null) throw new Error('the walk did not answer: the benchmark would measure git');
    const peerLines = execFileSync('git', ['for-each-ref', `--format=${PEER_FORMAT}`, 'refs/heads', 'refs/remotes'], { cwd: dir, maxBuffer: 1 << 28 })
      .toString()
      .trim()
      .split('\n').length;
    console.log(`repository: ${count} local branches; ours lists ${check.branches.length} branches, git for-each-ref ${peerLines} refs`);

    const service: number[] = [];
    const askingGit: number[] = [];
    const cli: number[] = [];
    const peer: number[] = [];
    for (let run = 0; run < runs; run++) {
      service.push(await timed(() => listBranches(repo, { includeRemote: true })));
      askingGit.push(await timed(() => listBranchesFromGit(repo, { includeRemote: true })));
      cli.push(await timed(() => execFileSync(process.execPath, [MLW, 'branch', 'list', '--json'], { cwd: dir, maxBuffer: 1 << 28 })));
      peer.push(await timed(() => execFileSync('git', ['for-each-ref', `--format=${PEER_FORMAT}`, 'refs/heads', 'refs/remotes'], { cwd: dir, maxBuffer: 1 << 28 })));
    }
    const floor = median(peer);
    const report = (label: string, samples: number[]): void =>
      console.log(`${label}: median ${median(samples).toFixed(0)} ms (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}), ratio to git for-each-ref ${(median(samples) / floor).toFixed(2)}`);
    report('listBranches (in the agent)', service);
    report('listBranchesFromGit (git computes ahead/behind, merged)', askingGit);
    report('mlw branch list --json (whole command)', cli);
    console.log(`git for-each-ref (same fields): median ${floor.toFixed(0)} ms over ${runs} runs`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

// listBranches is measured as the agent runs it: in a Node started with the agent's flags.
if (inRuntime(AGENT_V8_FLAGS)) void main();
