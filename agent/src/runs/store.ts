/**
 * The run store: one interface over the records of runs, so the embedded SQLite store
 * (`.mlw/runs.db`, store-sqlite.ts) and a team's PostgreSQL store can stand in for each other.
 * Every method is async because a networked store is; the SQLite one answers at once.
 */
import type {
  LogEntry,
  MetricPoint,
  MetricSeries,
  RunArtifact,
  RunInput,
  RunRecord,
  RunResources,
  RunStatus,
  RunSummary,
} from '../../../schemas/protocol/runs';

export type { LogEntry, MetricPoint, MetricSeries, RunArtifact, RunInput, RunRecord, RunStatus, RunSummary };

/** A run as it is created (queued). */
export interface NewRun {
  readonly id: string;
  readonly name: string;
  readonly task: string | null;
  readonly dagFile: string | null;
  readonly dagRunId: string | null;
  readonly command: string;
  readonly workdir: string;
  readonly environment: string | null;
  readonly executor: 'docker' | 'local';
  readonly priority: number;
  /** Which concurrency pool the run waits in: `gpu` or `cpu`. */
  readonly slotClass: SlotClass;
  readonly params: Readonly<Record<string, string>>;
  readonly resources: RunResources;
  readonly outputs: readonly string[];
  readonly gitCommit: string | null;
  readonly gitBranch: string | null;
  readonly owner: string;
  /** What is needed to launch the run again (re-run, or a restarted agent picking up a queued run). */
  readonly spec: unknown;
  readonly createdAt: number;
}

export type SlotClass = 'cpu' | 'gpu';

/** Fields that become known while a run is prepared and executed. */
export interface ExecutionDetails {
  readonly image?: string | null;
  readonly environmentDigest?: string | null;
  readonly gitTree?: string | null;
  readonly gitDiff?: string | null;
  readonly containerId?: string | null;
  readonly pid?: number | null;
  readonly owner?: string | null;
}

/** What a status change may also record. */
export interface TransitionDetails {
  readonly reason?: string | null;
  readonly exitCode?: number | null;
  readonly oomKilled?: boolean;
  readonly at: number;
}

/** A run that is not finished yet, with what recovery needs to find its process or container. */
/** What `recordFinished` writes along with the run: a run that is over the moment it is recorded. */
export interface FinishedRunDetails {
  readonly inputs: readonly RunInput[];
  readonly artifacts: readonly RunArtifact[];
  readonly metrics: readonly MetricPoint[];
  readonly tags: readonly string[];
  readonly startedAt: number;
  readonly endedAt: number;
  readonly exitCode: number;
  readonly reason: string;
}

export interface ActiveRun {
  readonly id: string;
  readonly status: 'queued' | 'running';
  readonly executor: 'docker' | 'local';
  readonly containerId: string | null;
  readonly pid: number | null;
  readonly owner: string | null;
  readonly slotClass: SlotClass;
  readonly priority: number;
  readonly cancelRequestedAt: number | null;
}

export interface RunFilter {
  readonly status?: readonly RunStatus[];
  readonly dagRunId?: string;
  readonly limit?: number;
}

export interface NewLogEntry {
  readonly stream: LogEntry['stream'];
  readonly text: string;
  readonly at: number;
}

/** Which status a run may move to from which: the only changes `transition` performs. */
export const ALLOWED_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['running', 'failed', 'cancelled', 'lost'],
  running: ['succeeded', 'failed', 'cancelled', 'lost'],
  succeeded: [],
  failed: [],
  cancelled: [],
  lost: [],
};

/** The statuses a run may be in for it to move to `to`. */
export function statusesLeadingTo(to: RunStatus): RunStatus[] {
  return (Object.keys(ALLOWED_TRANSITIONS) as RunStatus[]).filter((from) => ALLOWED_TRANSITIONS[from].includes(to));
}

export interface RunStore {
  /** Where the store lives (a file path or a connection string without credentials), for messages. */
  readonly location: string;

  create(run: NewRun): Promise<RunRecord>;
  get(id: string): Promise<RunRecord | undefined>;
  /**
   * Records a run that succeeded without executing (a DAG task whose outputs were restored from
   * the cache) in one atomic step: created, with its inputs, artifacts, metrics and tags, and
   * already succeeded. One transaction instead of seven is what keeps a fully cached DAG quick.
   */
  recordFinished(run: NewRun, details: FinishedRunDetails): Promise<void>;
  /** The full id of the one run whose id starts with `prefix`; a UserError when none or several. */
  resolveId(prefix: string): Promise<string>;
  /** Runs newest first, each with its params, tags and latest metrics, in one query. */
  list(filter?: RunFilter): Promise<RunSummary[]>;
  /** Runs that are queued or running, oldest first. */
  active(): Promise<ActiveRun[]>;
  /** The launch spec a run was created with. */
  spec(id: string): Promise<unknown>;

  /**
   * Moves a run to `to` if its current status allows it (ALLOWED_TRANSITIONS), atomically; false
   * when it did not (already finished, cancelled meanwhile, or unknown).
   */
  transition(id: string, to: RunStatus, details: TransitionDetails): Promise<boolean>;
  /**
   * Moves a queued run to running if fewer than `limit` runs of its slot class are running and no
   * queued run of that class comes before it (higher priority, then older): one atomic step, so
   * several processes sharing the store never exceed the limit.
   */
  claimSlot(id: string, limit: number, at: number): Promise<boolean>;
  recordExecution(id: string, details: ExecutionDetails): Promise<void>;
  /**
   * Makes `owner` the run's supervisor if `expectedOwner` still is: when several processes find a
   * run whose supervisor died, exactly one takes it over.
   */
  takeOver(id: string, expectedOwner: string | null, owner: string): Promise<boolean>;
  /**
   * Asks for a run to be cancelled: a queued run becomes cancelled at once ('cancelled'); a running
   * one is marked for its supervisor to stop ('requested'); a finished one is left ('finished').
   */
  requestCancel(id: string, at: number): Promise<'cancelled' | 'requested' | 'finished'>;
  /** When cancelling was asked for, if it was. */
  cancelRequestedAt(id: string): Promise<number | null>;

  /** Appends metric points atomically (all or none); a point at an existing step replaces it. */
  appendMetrics(id: string, points: readonly MetricPoint[], at: number): Promise<void>;
  metrics(id: string): Promise<MetricSeries[]>;
  /** Appends log entries atomically and returns them with their sequence numbers. */
  appendLog(id: string, entries: readonly NewLogEntry[]): Promise<LogEntry[]>;
  readLog(id: string, afterSeq?: number, limit?: number): Promise<LogEntry[]>;
  /** The last log entry of a run, if any. */
  lastLog(id: string): Promise<LogEntry | undefined>;

  recordInputs(id: string, inputs: readonly RunInput[]): Promise<void>;
  recordArtifacts(id: string, artifacts: readonly RunArtifact[]): Promise<void>;
  setTags(id: string, tags: readonly string[]): Promise<void>;
  setNote(id: string, note: string | null): Promise<void>;

  /** Deletes a run and everything recorded with it; false when there was no such run. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}
