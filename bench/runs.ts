/**
 * Issue 6 benchmarks, measured side by side in one run:
 *   (a) start-up overhead: `mlw run --cmd true --env box` against `docker run --rm --network none
 *       IMAGE true` on the same local image (mlw-test/busybox:latest), alternating, wall-clock per
 *       whole command; target ratio ≤ 1.5.
 *   (b) listing 10,000 runs with their latest metrics from the SQLite store: in-process
 *       `store.list()` and the whole `mlw runs list --json` command; target ≤ 100 ms.
 * Needs the Docker engine and the test image (scripts/setup/docker.sh, scripts/setup/images.sh)
 * and a built dist/ (node scripts/build.mjs). Run: npx tsx bench/runs.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSqliteRunStore } from '../agent/src/runs/store-sqlite';
import { median, timeCommand } from './measure';

const IMAGE = 'mlw-test/busybox:latest';
const MLW = resolve(import.meta.dirname, '..', 'bin', 'mlw.js');
const RUN_COUNT = 10_000;

function gitWorkspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-bench-runs-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], { cwd: root });
  git('init', '-q', '-b', 'main');
  writeFileSync(
    join(root, 'bench.dag.yaml'),
    `version: 1\nenvironments:\n  box:\n    docker: { image: ${IMAGE} }\ntasks:\n  noop:\n    environment: box\n    run: "true"\n`,
  );
  git('add', '-A');
  git('commit', '-q', '-m', 'bench');
  return root;
}

function startupOverhead(rounds: number): { ours: number; docker: number } {
  const root = gitWorkspace();
  try {
    const mlwArgs = [MLW, 'run', '--cmd', 'true', '--env', 'box'];
    const dockerArgs = ['run', '--rm', '--network', 'none', IMAGE, 'true'];
    // Warm both paths (page cache, the engine's image layers, the run store's creation).
    timeCommand(process.execPath, mlwArgs, root);
    timeCommand('docker', dockerArgs, root);
    const ours: number[] = [];
    const docker: number[] = [];
    for (let round = 0; round < rounds; round++) {
      ours.push(timeCommand(process.execPath, mlwArgs, root));
      docker.push(timeCommand('docker', dockerArgs, root));
    }
    return { ours: median(ours), docker: median(docker) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function listingTimes(rounds: number): Promise<{ inProcess: number; cli: number }> {
  const root = gitWorkspace();
  try {
    mkdirSync(join(root, '.mlw'), { recursive: true });
    const store = openSqliteRunStore(join(root, '.mlw', 'runs.db'));
    const base = Date.parse('2026-11-01T00:00:00Z');
    for (let index = 0; index < RUN_COUNT; index++) {
      const id = index.toString(16).padStart(12, '0');
      await store.create({
        id,
        name: `train@m${index % 7}`,
        task: `train@m${index % 7}`,
        dagFile: 'bench.dag.yaml',
        dagRunId: `dag${Math.floor(index / 10)}`,
        command: 'python3 train.py',
        workdir: '',
        environment: 'box',
        executor: 'docker',
        priority: 0,
        slotClass: 'cpu',
        params: { seed: String(index), lr: '0.01' },
        resources: {},
        outputs: [],
        gitCommit: 'a'.repeat(40),
        gitBranch: 'main',
        owner: 'bench:1',
        spec: { kind: 'bench' },
        createdAt: base + index * 1000,
      });
      await store.transition(id, 'running', { at: base + index * 1000 + 10 });
      await store.appendMetrics(
        id,
        [0, 1, 2].flatMap((step) => [
          { name: 'loss', step, value: 1 / (step + 1) },
          { name: 'accuracy', step, value: step / 3 },
        ]),
        base + index * 1000 + 20,
      );
      await store.transition(id, 'succeeded', { at: base + index * 1000 + 30, exitCode: 0 });
    }
    const inProcess: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const started = process.hrtime.bigint();
      const runs = await store.list();
      inProcess.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (runs.length !== RUN_COUNT || runs[0]?.latestMetrics.accuracy?.step !== 2) {
        throw new Error(`listing returned ${runs.length} runs or lacks their latest metrics`);
      }
    }
    await store.close();
    const cli: number[] = [];
    for (let round = 0; round < rounds; round++) cli.push(timeCommand(process.execPath, [MLW, 'runs', 'list', '--json'], root));
    return { inProcess: median(inProcess), cli: median(cli) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const roundsFlag = process.argv.indexOf('--rounds');
  const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 21;
  const startup = startupOverhead(rounds);
  console.log(`start-up, median of ${rounds}: mlw run --cmd true ${startup.ours.toFixed(0)} ms; docker run --rm ${startup.docker.toFixed(0)} ms; ratio ${(startup.ours / startup.docker).toFixed(2)} (target ≤ 1.5)`);
  const listing = await listingTimes(rounds);
  console.log(`listing ${RUN_COUNT} runs with latest metrics, median of ${rounds}: store.list() ${listing.inProcess.toFixed(1)} ms (target ≤ 100); whole \`mlw runs list --json\` ${listing.cli.toFixed(0)} ms`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
