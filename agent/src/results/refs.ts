/**
 * Run records in git: each under `refs/mlw/runs/<id>` as a commit of one file, `run.json`.
 * Written in one `git fast-import` and read in one `git cat-file --batch`, whatever the count: a
 * process per run would cost ~10 ms each (1,000 runs must push in seconds). fast-import writes
 * every object before it moves a ref, so a killed write leaves no ref pointing at nothing.
 * The commit's time is the run's end, so the same record always makes the same commit.
 */
import { spawn } from 'node:child_process';
import { git } from '../runs/git';
import { PublishedRun, RUNS_REF_PREFIX, runRef } from './record';

export class RunRefError extends Error {}

/** Ids of the runs recorded under refs/mlw/runs/ in this repository. */
export async function listRunRefs(repoRoot: string): Promise<string[]> {
  const { stdout } = await git(['for-each-ref', '--format=%(refname)', RUNS_REF_PREFIX], { cwd: repoRoot });
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(RUNS_REF_PREFIX))
    .map((line) => line.slice(RUNS_REF_PREFIX.length));
}

export async function writeRunRefs(
  repoRoot: string,
  runs: readonly PublishedRun[],
  author: { name: string; email: string },
): Promise<void> {
  if (runs.length === 0) return;
  const chunks: Buffer[] = [];
  const data = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  };
  const who = `${author.name.replace(/[<>\n]/g, '')} <${author.email.replace(/[<>\n]/g, '')}>`;
  runs.forEach((run, index) => {
    const mark = index + 1;
    chunks.push(Buffer.from(`blob\nmark :${mark}\n`));
    data(`${JSON.stringify(run, null, 2)}\n`);
    const seconds = Math.floor((run.endedAt ?? run.createdAt) / 1000);
    chunks.push(
      Buffer.from(`commit ${runRef(run.id)}\nauthor ${who} ${seconds} +0000\ncommitter ${who} ${seconds} +0000\n`),
    );
    data(`mlw run ${run.id}: ${run.name} ${run.status}\n`);
    chunks.push(Buffer.from(`M 100644 :${mark} run.json\n\n`));
  });
  await runGit(['fast-import', '--quiet', '--done'], repoRoot, Buffer.concat([...chunks, Buffer.from('done\n')]));
}

/** The records under the given ids' refs, parsed; an unreadable one is an error naming its ref. */
export async function readRunRefs(repoRoot: string, ids: readonly string[]): Promise<PublishedRun[]> {
  if (ids.length === 0) return [];
  const output = await runGit(
    ['cat-file', '--batch'],
    repoRoot,
    Buffer.from(ids.map((id) => `${runRef(id)}:run.json\n`).join('')),
  );
  const runs: PublishedRun[] = [];
  let offset = 0;
  for (const id of ids) {
    const headerEnd = output.indexOf(0x0a, offset);
    const header = output.subarray(offset, headerEnd).toString('utf8');
    const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!match) throw new RunRefError(`${runRef(id)}: no run.json in it (${header})`);
    const size = Number(match[1]);
    const body = output.subarray(headerEnd + 1, headerEnd + 1 + size).toString('utf8');
    offset = headerEnd + 1 + size + 1;
    const parsed = PublishedRun.safeParse(JSON.parse(body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RunRefError(
        `${runRef(id)}: run.json is not a run record mlw understands (${issue.path.join('.')}: ${issue.message})`,
      );
    }
    runs.push(parsed.data);
  }
  return runs;
}

/** Runs git with `input` on stdin and resolves to its stdout (binary-safe). */
export function runGit(args: readonly string[], cwd: string, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout));
      else
        reject(
          new RunRefError(
            `git ${args[0]} failed in ${cwd} (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`,
          ),
        );
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
