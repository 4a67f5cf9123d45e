/**
 * Issue 3 benchmark: listing 5,000 local branches (each with an upstream, so also 5,000
 * remote-tracking branches) with ahead/behind, last commit (short sha, subject, author, date) and
 * merged-or-not. Target: median ≤ 300 ms and ≤ 2.0× `git for-each-ref` producing the same fields.
 *
 *   npx tsx bench/git.ts [--branches N] [--runs N]
 *
 * Measured side by side, alternating: (1) the service (`listBranches`, what the agent does per
 * refresh, after a branch gained a commit: our own ahead/behind walk over the history it keeps,
 * grown by the new commit), (2) the same listing with git computing ahead/behind and merged
 * (`listBranchesFromGit`: what listBranches did before, and still does for long histories),
 * (3) the whole `mlw branch list --json` command (node start included, needs
 * `node scripts/build.mjs`), (4) the floor: one `git for-each-ref` with the same fields.
 *
 * (1) and (2) run in a child process started as the agent is (its V8 flags, git started from the
 * helper process) that does nothing else, and time themselves there: this process forks git for
 * the commits and the peer, and every fork leaves the forking process copy-on-write faults to pay
 * afterwards, which the agent does not have.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listBranches, listBranchesByWalk, listBranchesFromGit } from '../agent/src/git/branches';
import { openRepo } from '../agent/src/git/repo';
import { enableGitHelper } from '../agent/src/git/spawner';
import { manyBranches } from '../test/integration/git/many-branches';
import { AGENT_V8_FLAGS } from '../extension/src/agent/launch';
import { median } from './measure';

const MLW = resolve(import.meta.dirname, '..', 'bin', 'mlw.js');
const PEER_FORMAT = '%(refname) %(HEAD) %(objectname:short) %(upstream) %(upstream:track) %(committerdate:relative) %(authorname) %(subject)';
const AGENT_ROLE = '--as-agent';

type Listing = 'walk' | 'from-git';
interface Timing {
  readonly ms: number;
  readonly branches: number;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

function timed(action: () => unknown): number {
  const start = performance.now();
  action();
  return performance.now() - start;
}

/** The agent's side: lists the repository on each request and answers with its own timing. */
async function serveListings(dir: string): Promise<void> {
  enableGitHelper();
  const repo = await openRepo(dir);
  if ((await listBranchesByWalk(repo, { includeRemote: true })) === null) throw new Error('the walk did not answer: the benchmark would measure git');
  process.on('message', (listing: Listing) => {
    void (async () => {
      const start = performance.now();
      const list = listing === 'walk' ? await listBranches(repo, { includeRemote: true }) : await listBranchesFromGit(repo, { includeRemote: true });
      process.send!({ ms: performance.now() - start, branches: list.branches.length } satisfies Timing);
    })();
  });
  process.send!('ready');
}

/** Asks the agent-like child for one listing. */
function listIn(agent: ChildProcess, listing: Listing): Promise<Timing> {
  return new Promise((resolveTiming, reject) => {
    const exited = (code: number | null): void => reject(new Error(`the listing process exited (${code})`));
    agent.once('exit', exited);
    agent.once('message', (timing: Timing) => {
      agent.off('exit', exited);
      resolveTiming(timing);
    });
    agent.send(listing);
  });
}

function startAgent(dir: string): Promise<ChildProcess> {
  const agent = fork(process.argv[1]!, [AGENT_ROLE, dir], { execArgv: [...AGENT_V8_FLAGS, ...process.execArgv] });
  return new Promise((ready, reject) => {
    agent.once('message', () => ready(agent));
    agent.once('exit', (code) => reject(new Error(`the listing process exited (${code}) before it was ready`)));
  });
}

/** A new commit on `branch` (outside the timing): what a refresh has to read. */
function commitOnBranch(dir: string, branch: string): void {
  const run = (...args: string[]): string => execFileSync('git', args, { cwd: dir }).toString().trim();
  const parent = run('rev-parse', `refs/heads/${branch}`);
  const commit = run('commit-tree', `${parent}^{tree}`, '-p', parent, '-m', `${branch} refreshed`);
  run('update-ref', `refs/heads/${branch}`, commit, parent);
}

async function measure(agent: ChildProcess, dir: string, runs: number, layout: string): Promise<void> {
  const service: number[] = [];
  const askingGit: number[] = [];
  const cli: number[] = [];
  const peer: number[] = [];
  for (let run = 0; run < runs; run++) {
    // The view refreshes because something changed: before each listing a branch gains a commit.
    commitOnBranch(dir, `b${run}`);
    service.push((await listIn(agent, 'walk')).ms);
    askingGit.push((await listIn(agent, 'from-git')).ms);
    cli.push(timed(() => execFileSync(process.execPath, [MLW, 'branch', 'list', '--json'], { cwd: dir, maxBuffer: 1 << 28 })));
    peer.push(timed(() => execFileSync('git', ['for-each-ref', `--format=${PEER_FORMAT}`, 'refs/heads', 'refs/remotes'], { cwd: dir, maxBuffer: 1 << 28 })));
  }
  const floor = median(peer);
  const report = (label: string, samples: number[]): void =>
    console.log(`  ${label}: median ${median(samples).toFixed(0)} ms (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}), ratio to git for-each-ref ${(median(samples) / floor).toFixed(2)}`);
  console.log(`${layout}:`);
  report('listBranches (in the agent, a refresh after a commit)', service);
  report('listBranchesFromGit (git computes ahead/behind, merged)', askingGit);
  report('mlw branch list --json (whole command)', cli);
  console.log(`  git for-each-ref (same fields): median ${floor.toFixed(0)} ms over ${runs} runs`);
}

async function main(): Promise<void> {
  const count = option('--branches', 5000);
  const runs = option('--runs', 15);
  const base = mkdtempSync(join(tmpdir(), 'mlw-bench-git-'));
  let agent: ChildProcess | undefined;
  try {
    const { dir } = manyBranches(base, count);
    agent = await startAgent(dir);
    const check = await listIn(agent, 'walk');
    const peerLines = execFileSync('git', ['for-each-ref', `--format=${PEER_FORMAT}`, 'refs/heads', 'refs/remotes'], { cwd: dir, maxBuffer: 1 << 28 })
      .toString()
      .trim()
      .split('\n').length;
    console.log(`repository: ${count} local branches; ours lists ${check.branches} branches, git for-each-ref ${peerLines} refs`);

    // As built (fetch and update-ref write one file per ref), then packed as a clone or `git gc`
    // leaves them: with 10,000 loose refs git spends most of a listing opening ref files.
    await measure(agent, dir, runs, 'loose refs (10,000 files)');
    execFileSync('git', ['pack-refs', '--all'], { cwd: dir });
    await measure(agent, dir, runs, 'packed refs (as after a clone or git gc)');
  } finally {
    agent?.kill();
    rmSync(base, { recursive: true, force: true });
  }
}

const role = process.argv.indexOf(AGENT_ROLE);
if (role === -1) void main();
else void serveListings(process.argv[role + 1]!);
