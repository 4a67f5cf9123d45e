/**
 * Issue 5 benchmarks (environments), each side by side with its peer, against the real engine:
 *   (a) deciding that an unchanged Docker environment is up to date, its context 2,000 files
 *       (target: median ≤ 50 ms) — in-process through EnvService (warm: the service kept; cold: a new
 *       service each time, which loads the hash cache from disk), and as whole commands,
 *       `mlw env build NAME` against `docker build` of the same unchanged context (all layers cached);
 *   (b) listing 200 images (target ≤ 200 ms): 200 tags of mlw-test/busybox:latest made with the
 *       engine API, listed in-process (GET /images/json) and by `docker images`, then removed.
 * Run: npx tsx bench/env.ts [--rounds N]   (needs scripts/setup/docker.sh and scripts/setup/images.sh)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../agent/src/env/engine';
import { EnvService } from '../agent/src/env/service';
import { median } from './measure';

const repoRoot = resolve(import.meta.dirname, '..');
const BUSYBOX = 'mlw-test/busybox:latest';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const rounds = Number(option('--rounds') ?? 30);

async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function commandMs(command: string, args: readonly string[], cwd: string): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return elapsed;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

/** A workspace whose DAG names one Docker environment over a 2,000-file context (20 folders of 100). */
function workspaceWithContext(files: number): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-bench-env-'));
  writeFileSync(
    join(root, 'bench.dag.yaml'),
    'version: 1\nname: bench\nenvironments:\n  benchenv:\n    docker: { dockerfile: env/Dockerfile, context: env }\ntasks:\n  a:\n    run: echo a\n',
  );
  const context = join(root, 'env');
  mkdirSync(context);
  writeFileSync(join(context, 'Dockerfile'), `FROM ${BUSYBOX}\nCOPY . /src\n`);
  for (let index = 0; index < files - 1; index++) {
    const folder = join(context, `pkg${String(Math.floor(index / 100)).padStart(2, '0')}`);
    if (index % 100 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `module${index}.py`), `# module ${index}\n${'x = 1\n'.repeat(1 + (index % 50))}`);
  }
  return root;
}

async function upToDate(): Promise<string[]> {
  const root = workspaceWithContext(2000);
  const bundle = join(repoRoot, 'dist', 'agent.js');
  try {
    const warm = new EnvService({ root, log: quiet });
    const first = await warm.build('benchenv');
    const tag = first.image!;
    // The files are older than the hash cache's racy window from here on.
    await new Promise((done) => setTimeout(done, 200));
    await warm.build('benchenv');
    const warmTimes: number[] = [];
    const decisionTimes: number[] = [];
    const coldTimes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      warmTimes.push(await timeMs(() => warm.build('benchenv')));
      const definition = await warm.find('benchenv');
      decisionTimes.push(await timeMs(() => warm.buildSpec('benchenv', definition.spec!, definition.baseDir)));
      const cold = new EnvService({ root, log: quiet });
      coldTimes.push(await timeMs(() => cold.build('benchenv')));
      cold.close();
    }
    const reused = await warm.build('benchenv');
    if (!reused.reused) throw new Error('the unchanged environment was not reused');
    const commandRounds = Math.max(5, Math.floor(rounds / 3));
    const mlwTimes: number[] = [];
    const dockerTimes: number[] = [];
    const peerTag = 'mlw-bench/env-peer:latest';
    commandMs('docker', ['build', '-q', '-t', peerTag, join(root, 'env')], root);
    for (let round = 0; round < commandRounds; round++) {
      mlwTimes.push(commandMs(process.execPath, [bundle, 'env', 'build', 'benchenv'], root));
      dockerTimes.push(commandMs('docker', ['build', '-q', '-t', peerTag, join(root, 'env')], root));
    }
    await warm.remove('benchenv', 'all');
    commandMs('docker', ['rmi', peerTag], root);
    warm.close();
    return [
      `(a) unchanged Docker environment, 2,000-file context (${tag}), median of ${rounds}:`,
      `    decision only (digest over the context via the hash cache + one image inspect): ${fmt(median(decisionTimes))}`,
      `    EnvService.build in a running agent (+ discovery of the workspace's environments): ${fmt(median(warmTimes))}`,
      `    a new EnvService each time (+ hash cache loaded from .mlw/env-hashes.json): ${fmt(median(coldTimes))}`,
      `    whole commands, median of ${commandRounds}: mlw env build ${fmt(median(mlwTimes))} vs docker build (all cached) ${fmt(median(dockerTimes))} — ratio ${(median(mlwTimes) / median(dockerTimes)).toFixed(2)}`,
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function listing(): Promise<string[]> {
  const engine = new EngineClient(process.env);
  const repository = `mlw-bench/list-${process.pid}`;
  const before = (await engine.listImages()).reduce((count, image) => count + (image.RepoTags?.length ?? 0), 0);
  try {
    for (let index = 0; index < 200; index++) await engine.tagImage(BUSYBOX, repository, `t${index}`);
    const all = await engine.listImages();
    const tags = all.reduce((count, image) => count + (image.RepoTags?.length ?? 0), 0);
    if (tags < 200) throw new Error(`expected at least 200 tags, the engine lists ${tags}`);
    const apiTimes: number[] = [];
    const cliTimes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      apiTimes.push(await timeMs(() => engine.listImages()));
      if (round < Math.max(5, Math.floor(rounds / 3))) cliTimes.push(commandMs('docker', ['images', '--no-trunc'], repoRoot));
    }
    return [
      `(b) listing images: ${tags} tags (200 made for the bench + ${before} already there), median of ${rounds}:`,
      `    EngineClient.listImages (GET /images/json, parsed): ${fmt(median(apiTimes))}`,
      `    docker images (whole command), median of ${cliTimes.length}: ${fmt(median(cliTimes))} — ratio ${(median(apiTimes) / median(cliTimes)).toFixed(2)}`,
    ];
  } finally {
    for (let index = 0; index < 200; index++) await engine.removeImage(`${repository}:t${index}`).catch(() => undefined);
    engine.close();
  }
}

async function main(): Promise<void> {
  const lines = [...(await upToDate()), ...(await listing())];
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
