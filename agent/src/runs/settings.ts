/**
 * The runs service's settings. Defaults fit a laptop; each can be set by an environment variable
 * (for the CLI and CI) or, in the editor, by the extension's `mlw.runs.*` settings passed in.
 */
import { availableParallelism } from 'node:os';
import { readdirSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors';

export const RunSettings = z.object({
  /** Docker network mode of run containers. */
  dockerNetwork: z.string().min(1).default('none'),
  /** Run an init process (tini) as PID 1 in containers. */
  dockerInit: z.boolean().default(true),
  /** How many CPU runs may run at once (default: half the cores, at least one). */
  cpuSlots: z.number().int().positive().optional(),
  /** How many GPU runs may run at once (default: one per GPU, at least one). */
  gpuSlots: z.number().int().positive().optional(),
  /** How long a cancelled run has between SIGTERM and the kill. */
  cancelGraceMs: z.number().int().min(0).default(10_000),
  /** Untracked files above this size are left out of a run's code snapshot. */
  maxUntrackedBytes: z.number().int().positive().default(20 * 1024 * 1024),
  /** Keep each run's scratch folder (code snapshot, outputs) after it ends, for debugging. */
  keepRunDirs: z.boolean().default(false),
  /**
   * Where run records live: unset for the embedded SQLite file (.mlw/runs.db), or a team's
   * PostgreSQL server as `postgres://user:password@host:port/database`.
   */
  store: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string (leave it unset for the embedded SQLite store)')
    .optional(),
});
export type RunSettings = z.output<typeof RunSettings>;

const ENVIRONMENT_VARIABLES: Readonly<Record<keyof RunSettings, string>> = {
  dockerNetwork: 'MLW_DOCKER_NETWORK',
  dockerInit: 'MLW_DOCKER_INIT',
  cpuSlots: 'MLW_RUNS_CPU_SLOTS',
  gpuSlots: 'MLW_RUNS_GPU_SLOTS',
  cancelGraceMs: 'MLW_RUNS_CANCEL_GRACE_MS',
  maxUntrackedBytes: 'MLW_RUNS_MAX_UNTRACKED_BYTES',
  keepRunDirs: 'MLW_RUNS_KEEP_DIRS',
  store: 'MLW_RUN_STORE',
};

/** Settings from `overrides` (the editor's), then environment variables, then defaults. */
export function loadRunSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<RunSettings> = {}): RunSettings {
  const fromEnv: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(ENVIRONMENT_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    fromEnv[key] = /^(true|false)$/.test(raw) ? raw === 'true' : /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  const parsed = RunSettings.safeParse({ ...fromEnv, ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]) as keyof RunSettings;
    throw new UserError(`run setting ${key} (${ENVIRONMENT_VARIABLES[key]}): ${issue.message}`);
  }
  return parsed.data;
}

export function cpuSlots(settings: RunSettings): number {
  return settings.cpuSlots ?? Math.max(1, Math.floor(availableParallelism() / 2));
}

export function gpuSlots(settings: RunSettings): number {
  return settings.gpuSlots ?? Math.max(1, countNvidiaGpus());
}

/** GPUs the NVIDIA driver reports (Linux); 0 where there is none or we cannot tell. */
function countNvidiaGpus(): number {
  try {
    return readdirSync('/proc/driver/nvidia/gpus').length;
  } catch {
    return 0;
  }
}
