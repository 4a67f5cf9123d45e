/**
 * Issue 6 benchmarks, measured side by side in one run:
 *   (a) start-up overhead: `mlw run --cmd true --env box` against `docker run --rm --network none
 *       IMAGE true` on the same local image (mlw-test/busybox:latest), alternating, wall-clock per
 *       whole command; target ratio ≤ 1.5. `mlw run` twice: handed to a resident agent (`mlw agent
 *       --serve`, as `docker run` is handed to dockerd) and alone (MLW_NO_HAND_OFF=1, the whole
 *       agent loaded by the command).
 *   (b) listing 10,000 runs with their latest metrics from the SQLite store: in-process
 *       `store.list()` and the whole `mlw runs list --json` command; target ≤ 100 ms.
 * Needs the Docker engine and the test image (scripts/setup/docker.sh, scripts/setup/images.sh)
 * and a built dist/ (node scripts/build.mjs). Run: npx tsx bench/runs.ts [--rounds N]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
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

interface Startup {
  resident: number;
  alone: number;
  docker: number;
}

async function startupOverhead(rounds: number): Promise<Startup> {
  const root = gitWorkspace();
  const agent = await residentAgent(root);
  try {
    const mlwArgs = [MLW, 'run', '--cmd', 'true', '--env', 'box'];
    const dockerArgs = ['run', '--rm', '--network', 'none', IMAGE, 'true'];
    const alone = { ...process.env, MLW_NO_HAND_OFF: '1' };
    // Warm every path (page cache, the engine's image layers, the run store's creation).
    timeCommand(process.execPath, mlwArgs, root, alone);
    timeCommand(process.execPath, mlwArgs, root);
    timeCommand('docker', dockerArgs, root);
    const times: Record<keyof Startup, number[]> = { resident: [], alone: [], docker: [] };
    for (let round = 0; round < rounds; round++) {
      times.resident.push(timeCommand(process.execPath, mlwArgs, root));
      times.docker.push(timeCommand('docker', dockerArgs, root));
      times.alone.push(timeCommand(process.execPath, mlwArgs, root, alone));
    }
    // The timing loop is synchronous: the agent's log is read once it has stopped.
    await stop(agent.child);
    const handedOff = agent.log().match(/handed-off `mlw run --cmd true --env box` exited 0/g)?.length ?? 0;
    if (handedOff !== rounds + 1) throw new Error(`the resident agent carried out ${handedOff} of ${rounds + 1} runs: ${agent.log()}`);
    return { resident: median(times.resident), alone: median(times.alone), docker: median(times.docker) };
  } finally {
    await stop(agent.child);
    rmSync(root, { recursive: true, force: true });
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** `mlw agent --serve` in `root`, once it says it serves. */
async function residentAgent(root: string): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [MLW, 'agent', '--serve'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const serving = new Promise<boolean>((resolve) => lines.on('line', (line) => line.startsWith('mlw agent: serving') && resolve(true)));
  if (!(await Promise.race([serving, once(child, 'exit').then(() => false)]))) throw new Error(`mlw agent --serve did not start: ${log}`);
  return { child, log: () => log };
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
  const startup = await startupOverhead(rounds);
  const ratio = (ms: number) => (ms / startup.docker).toFixed(2);
  console.log(
    `start-up, median of ${rounds}: docker run --rm ${startup.docker.toFixed(0)} ms; mlw run --cmd true handed to a resident agent ${startup.resident.toFixed(0)} ms, ratio ${ratio(startup.resident)} (target ≤ 1.5); mlw run alone (MLW_NO_HAND_OFF=1) ${startup.alone.toFixed(0)} ms, ratio ${ratio(startup.alone)}`,
  );
  const listing = await listingTimes(rounds);
  console.log(`listing ${RUN_COUNT} runs with latest metrics, median of ${rounds}: store.list() ${listing.inProcess.toFixed(1)} ms (target ≤ 100); whole \`mlw runs list --json\` ${listing.cli.toFixed(0)} ms`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
