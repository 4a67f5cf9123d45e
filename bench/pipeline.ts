/**
 * Issue 7 benchmarks, through the built CLI (`node bin/mlw.js`), wall-clock per whole command:
 *   (a) a diamond DAG (1 → 4 parallel → 1) of 2-second tasks (`sleep 2` in the busybox test image)
 *       with `mlw dag run -j 4 --force`, against its 6 s critical path (target ≤ 1.3×); side by side,
 *       the floor of the same critical path as three `docker run --rm IMAGE sleep 2` one after another.
 *   (b) a fully cached re-run of a 200-task DAG (`mlw dag run` with nothing changed; target ≤ 1.0 s).
 *       The tasks run on the host (`local: true`) for the first, filling run: the re-run never
 *       starts a task whatever its environment.
 * Needs the Docker engine and the test image (scripts/setup/docker.sh, images.sh) and a built dist/
 * (node scripts/build.mjs). Run: npx tsx bench/pipeline.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, timeCommand } from './measure';

const IMAGE = 'mlw-test/busybox:latest';
const MLW = resolve(import.meta.dirname, '..', 'bin', 'mlw.js');
const CACHED_TASKS = 200;

function gitWorkspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-bench-pipeline-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], { cwd: root });
  git('init', '-q', '-b', 'main');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'bench');
  return root;
}

function diamondDag(): string {
  return `version: 1
environments:
  box:
    docker: { image: ${IMAGE} }
defaults:
  environment: box
tasks:
  start:
    run: sleep 2
  middle:
    needs: [start]
    matrix: { n: [1, 2, 3, 4] }
    run: sleep 2
  join:
    needs: [middle]
    run: sleep 2
`;
}

/** 200 tasks in 20 chains of 10: each reads its input file or its predecessor's output. */
function cachedDag(): { dag: string; files: Record<string, string> } {
  const files: Record<string, string> = {};
  const lines = ['version: 1', 'environments:', '  host:', '    local: true', 'defaults:', '  environment: host', 'tasks:'];
  for (let chain = 0; chain < CACHED_TASKS / 10; chain++) {
    files[`src/c${chain}.txt`] = `chain ${chain}\n`;
    for (let step = 0; step < 10; step++) {
      const input = step === 0 ? `src/c${chain}.txt` : `out/c${chain}-${step - 1}.txt`;
      lines.push(
        `  c${chain}-${step}:`,
        `    run: mkdir -p out && cat ${input} > out/c${chain}-${step}.txt && echo ${step} >> out/c${chain}-${step}.txt`,
        `    inputs: [${input}]`,
        `    outputs: [out/c${chain}-${step}.txt]`,
      );
    }
  }
  return { dag: `${lines.join('\n')}\n`, files };
}

function diamond(rounds: number): { ours: number; floor: number } {
  const root = gitWorkspace({ 'diamond.dag.yaml': diamondDag() });
  try {
    const ours: number[] = [];
    const floor: number[] = [];
    const dockerSleep = ['run', '--rm', '--network', 'none', IMAGE, 'sleep', '2'];
    timeCommand(process.execPath, [MLW, 'dag', 'run', '-j', '4', '--force'], root); // warm-up
    for (let round = 0; round < rounds; round++) {
      ours.push(timeCommand(process.execPath, [MLW, 'dag', 'run', '-j', '4', '--force'], root));
      const started = process.hrtime.bigint();
      for (let step = 0; step < 3; step++) timeCommand('docker', dockerSleep, root);
      floor.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return { ours: median(ours), floor: median(floor) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function cachedRerun(rounds: number): { first: number; rerun: number } {
  const { dag, files } = cachedDag();
  const root = gitWorkspace({ 'chains.dag.yaml': dag, ...files, '.gitignore': 'out/\n' });
  try {
    const first = timeCommand(process.execPath, [MLW, 'dag', 'run', '-j', '2'], root);
    timeCommand(process.execPath, [MLW, 'dag', 'run'], root); // warm-up of the cached path
    const reruns: number[] = [];
    for (let round = 0; round < rounds; round++) reruns.push(timeCommand(process.execPath, [MLW, 'dag', 'run'], root));
    return { first, rerun: median(reruns) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 5;
const d = diamond(rounds);
process.stdout.write(
  `diamond 1→4→1 of 2 s tasks, -j 4: median ${(d.ours / 1000).toFixed(2)} s; critical path 6 s → ${(d.ours / 6000).toFixed(2)}× (target ≤ 1.3×); ` +
    `3 × docker run sleep 2 in a row: ${(d.floor / 1000).toFixed(2)} s → ours / that floor ${(d.ours / d.floor).toFixed(2)}×\n`,
);
const c = cachedRerun(rounds);
process.stdout.write(
  `${CACHED_TASKS}-task DAG: first run ${(c.first / 1000).toFixed(1)} s; fully cached re-run median ${(c.rerun / 1000).toFixed(3)} s (target ≤ 1.0 s)\n`,
);
