/**
 * Output locks: two DAG runs never write the same outputs at once. Each DAG run holds one lock file
 * in `.mlw/locks/` naming the outputs it may write and its holder (host, pid and the process's
 * start time, so a recycled pid is not mistaken for the holder). Taking a lock looks at every other
 * lock file under a short mutex: a lock whose holder is gone is removed (recovered), a living
 * holder's lock that overlaps (same path, or one inside the other) refuses the new one at once —
 * nobody ever waits on a dead process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAtomically } from './cache';
import { OutputsLockedError } from './errors';
import { isInside } from './graph';

const Holder = z.object({
  host: z.string(),
  pid: z.number().int(),
  /** The process's start time as the OS reports it (Linux: clock ticks after boot); null where unknown. */
  startTime: z.string().nullable(),
  /** What the holder is, for messages (`mlw dag run iris.dag.yaml`). */
  what: z.string(),
  since: z.number(),
});
type Holder = z.output<typeof Holder>;

const LockFile = Holder.extend({ outputs: z.array(z.string()) });
type LockFile = z.output<typeof LockFile>;

export interface HeldLock {
  readonly path: string;
  /** Locks of dead holders that were removed on the way, by what they were. */
  readonly recovered: readonly string[];
  release(): Promise<void>;
}

const MUTEX = '.mutex';
const MUTEX_RETRY_MS = 5;
const MUTEX_ATTEMPTS = 2_000;

/**
 * Takes the lock on `outputs` (workspace-relative, forward slashes, no trailing slash) for this
 * process; throws OutputsLockedError naming the living holder when one overlaps.
 */
export async function acquireOutputLock(workspaceRoot: string, outputs: readonly string[], what: string): Promise<HeldLock> {
  const folder = join(workspaceRoot, '.mlw', 'locks');
  const recovered: string[] = [];
  const path = join(folder, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.lock`);
  await withMutex(folder, recovered, async () => {
    for (const name of await readdir(folder)) {
      if (!name.endsWith('.lock')) continue;
      const other = await readLock(join(folder, name));
      if (!other) continue;
      if (!holderIsAlive(other)) {
        await rm(join(folder, name), { force: true });
        recovered.push(`${other.what} (pid ${other.pid})`);
        continue;
      }
      const overlap = overlapping(outputs, other.outputs);
      if (overlap) {
        throw new OutputsLockedError(
          `${overlap} is being written by ${other.what} (pid ${other.pid} on ${other.host}, since ${new Date(other.since).toISOString()}): wait for it to finish or cancel it (lock ${join(folder, name)})`,
        );
      }
    }
    const lock: LockFile = { ...currentHolder(what), outputs: [...outputs] };
    await writeAtomically(path, `${JSON.stringify(lock)}\n`);
  });
  let released = false;
  return {
    path,
    recovered,
    release: async () => {
      if (released) return;
      released = true;
      await rm(path, { force: true });
    },
  };
}

/** The mutex is a file created exclusively; one left by a dead process is removed. */
async function withMutex(folder: string, recovered: string[], body: () => Promise<void>): Promise<void> {
  await mkdir(folder, { recursive: true });
  const mutexPath = join(folder, MUTEX);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(mutexPath, 'wx');
      await handle.writeFile(JSON.stringify(currentHolder('a lock check')));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(mutexPath);
      if (holder && !holderIsAlive(holder)) {
        await rm(mutexPath, { force: true });
        recovered.push(`the lock mutex of pid ${holder.pid}`);
        continue;
      }
      if (attempt >= MUTEX_ATTEMPTS) throw new OutputsLockedError(`${mutexPath} stays taken by a living process: remove it if no mlw is running`);
      await new Promise((resolve) => setTimeout(resolve, MUTEX_RETRY_MS));
    }
  }
  try {
    await body();
  } finally {
    await rm(mutexPath, { force: true });
  }
}

async function readLock(path: string): Promise<LockFile | undefined> {
  try {
    const parsed = LockFile.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const parsed = Holder.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Being written this instant (empty): treat as alive, the next look sees it whole.
    return undefined;
  }
}

function overlapping(mine: readonly string[], theirs: readonly string[]): string | undefined {
  for (const a of mine) for (const b of theirs) if (a === b || isInside(a, b) || isInside(b, a)) return a;
  return undefined;
}

function currentHolder(what: string): Holder {
  return { host: hostname(), pid: process.pid, startTime: processStartTime(process.pid), what, since: Date.now() };
}

/** A holder on another host is assumed alive: only its host can tell. */
export function holderIsAlive(holder: Pick<Holder, 'host' | 'pid' | 'startTime'>): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTime(holder.pid);
  return holder.startTime === null || now === null || now === holder.startTime;
}

/** Linux: field 22 of /proc/PID/stat (after the parenthesised command name, which may hold spaces). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
