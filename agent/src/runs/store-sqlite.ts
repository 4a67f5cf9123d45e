/**
 * The embedded run store: one SQLite file (`.mlw/runs.db`) in WAL mode, shared safely by the agent
 * and any `mlw` processes of the same workspace. better-sqlite3 is a native module; it is loaded
 * only when a store is opened, so the agent starts (and everything but runs works) without it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { openSqliteFile } from '../sqlite';
import {
  AmbiguousRunIdError,
  RunNotFoundError,
  RunStoreTooNewError,
  RunStoreUnavailableError,
} from './errors';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './store-sqlite-schema';
import {
  statusesLeadingTo,
  type ActiveRun,
  type ExecutionDetails,
  type FinishedRunDetails,
  type LogEntry,
  type MetricPoint,
  type MetricSeries,
  type NewLogEntry,
  type NewRun,
  type RunArtifact,
  type RunFilter,
  type RunInput,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type RunSummary,
  type SlotClass,
  type TransitionDetails,
} from './store';

type Database = BetterSqlite3.Database;

/** How long a writer waits for another process's write lock before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/** Opens (creating if needed) the store at `path` and brings its schema up to date. */
export function openSqliteRunStore(path: string): SqliteRunStore {
  mkdirSync(dirname(path), { recursive: true });
  let db: Database;
  try {
    db = openSqliteFile(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new RunStoreUnavailableError(path, error instanceof Error ? error.message : String(error));
  }
  try {
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no committed transaction when a process crashes (only on power loss).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteRunStore(db, path);
}

function migrate(db: Database, location: string): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const applyPending = db.transaction(() => {
    const row = db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as { version: number | null };
    const current = row.version ?? 0;
    if (current > LATEST_SCHEMA_VERSION) throw new RunStoreTooNewError(location, current, LATEST_SCHEMA_VERSION);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }
  });
  // IMMEDIATE: two processes opening a fresh store at once must not both apply migration 1.
  applyPending.immediate();
}

interface RunRow {
  seq: number;
  id: string;
  name: string;
  task: string | null;
  dag_file: string | null;
  dag_run_id: string | null;
  command: string;
  workdir: string;
  environment: string | null;
  executor: 'docker' | 'local';
  image: string | null;
  environment_digest: string | null;
  status: RunStatus;
  status_reason: string | null;
  exit_code: number | null;
  oom_killed: number;
  priority: number;
  slot_class: SlotClass;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  git_commit: string | null;
  git_branch: string | null;
  git_tree: string | null;
  git_diff: string | null;
  resources: string;
  outputs: string;
  note: string | null;
  container_id: string | null;
  pid: number | null;
  owner: string | null;
  cancel_requested_at: number | null;
  spec: string;
  params_json: string;
  tags_json: string;
  latest_json: string;
  summary_json: string;
}

/** A listing row is the stored summary, as JSON text (see store-sqlite-schema.ts). */
function toSummary(summaryJson: string): RunSummary {
  return JSON.parse(summaryJson) as RunSummary;
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class SqliteRunStore implements RunStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(
    private readonly db: Database,
    readonly location: string,
  ) {
    this.statements = prepareStatements(db);
  }

  async create(run: NewRun): Promise<RunRecord> {
    this.db.transaction(() => this.insertRun(run)).immediate();
    return (await this.get(run.id))!;
  }

  async recordFinished(run: NewRun, details: FinishedRunDetails): Promise<void> {
    const record = this.db.transaction(() => {
      // Inserted as it ends up (succeeded, tagged): each later UPDATE would rebuild summary_json.
      this.statements.insertFinishedRun.run({
        ...this.runColumns(run),
        status_reason: details.reason,
        exit_code: details.exitCode,
        started_at: details.startedAt,
        ended_at: details.endedAt,
        tags_json: JSON.stringify([...new Set(details.tags)].sort()),
      });
      for (const input of details.inputs) this.statements.upsertInput.run(run.id, input.path, input.md5);
      for (const artifact of details.artifacts) this.statements.upsertArtifact.run(run.id, artifact.path, artifact.md5, artifact.size);
      this.insertMetrics(run.id, details.metrics, details.endedAt);
    });
    record.immediate();
  }

  private insertRun(run: NewRun): void {
    this.statements.insertRun.run(this.runColumns(run));
  }

  private runColumns(run: NewRun) {
    return {
      id: run.id,
      name: run.name,
      task: run.task,
      dag_file: run.dagFile,
      dag_run_id: run.dagRunId,
      command: run.command,
      workdir: run.workdir,
      environment: run.environment,
      executor: run.executor,
      priority: run.priority,
      slot_class: run.slotClass,
      created_at: run.createdAt,
      git_commit: run.gitCommit,
      git_branch: run.gitBranch,
      resources: JSON.stringify(run.resources),
      outputs: JSON.stringify(run.outputs),
      owner: run.owner,
      spec: JSON.stringify(run.spec ?? null),
      params_json: JSON.stringify(sortedRecord(run.params)),
    };
  }

  private insertMetrics(id: string, points: readonly MetricPoint[], at: number): void {
    if (points.length === 0) return;
    for (const point of points) {
      this.statements.upsertMetric.run(id, point.name, point.step, point.value, at);
      this.statements.upsertLatest.run(id, point.name, point.step, point.value);
    }
    this.statements.refreshLatestJson.run({ id });
  }

  private updateStatus(id: string, to: RunStatus, details: TransitionDetails): boolean {
    const from = statusesLeadingTo(to);
    const final = to !== 'running' && to !== 'queued';
    const result = this.statements.transition.run({
      id,
      to,
      from: JSON.stringify(from),
      reason: details.reason ?? null,
      exit_code: details.exitCode ?? null,
      oom_killed: details.oomKilled === true ? 1 : null,
      started_at: to === 'running' ? details.at : null,
      ended_at: final ? details.at : null,
    });
    return result.changes === 1;
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = this.statements.runById.get(id) as RunRow | undefined;
    if (!row) return undefined;
    const inputs = this.statements.inputsOf.all(id) as RunInput[];
    const artifacts = this.statements.artifactsOf.all(id) as RunArtifact[];
    return {
      ...toSummary(row.summary_json),
      command: row.command,
      workdir: row.workdir,
      image: row.image,
      environmentDigest: row.environment_digest,
      gitTree: row.git_tree,
      gitDiff: row.git_diff,
      resources: JSON.parse(row.resources) as RunRecord['resources'],
      outputs: JSON.parse(row.outputs) as string[],
      note: row.note,
      inputs,
      artifacts,
      containerId: row.container_id,
      pid: row.pid,
      owner: row.owner,
    };
  }

  async resolveId(prefix: string): Promise<string> {
    const exact = this.statements.idExists.get(prefix) as { id: string } | undefined;
    if (exact) return exact.id;
    // Ids are lowercase hex, so every id starting with `prefix` sorts before `prefix + '~'`.
    const matches = (this.statements.idsWithPrefix.all(prefix.toLowerCase(), `${prefix.toLowerCase()}~`) as { id: string }[]).map(
      (row) => row.id,
    );
    if (matches.length === 0) throw new RunNotFoundError(prefix, this.location);
    if (matches.length > 1) throw new AmbiguousRunIdError(prefix, matches);
    return matches[0]!;
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const rows = this.statements.list.all({
      statuses: filter.status && filter.status.length > 0 ? JSON.stringify(filter.status) : null,
      dag_run_id: filter.dagRunId ?? null,
      limit: filter.limit ?? -1,
    }) as string[];
    return rows.map(toSummary);
  }

  async active(): Promise<ActiveRun[]> {
    const rows = this.statements.active.all() as Pick<
      RunRow,
      'id' | 'status' | 'executor' | 'container_id' | 'pid' | 'owner' | 'slot_class' | 'priority' | 'cancel_requested_at'
    >[];
    return rows.map((row) => ({
      id: row.id,
      status: row.status as ActiveRun['status'],
      executor: row.executor,
      containerId: row.container_id,
      pid: row.pid,
      owner: row.owner,
      slotClass: row.slot_class,
      priority: row.priority,
      cancelRequestedAt: row.cancel_requested_at,
    }));
  }

  async spec(id: string): Promise<unknown> {
    const row = this.statements.specOf.get(id) as { spec: string } | undefined;
    if (!row) throw new RunNotFoundError(id, this.location);
    return JSON.parse(row.spec) as unknown;
  }

  async transition(id: string, to: RunStatus, details: TransitionDetails): Promise<boolean> {
    return this.updateStatus(id, to, details);
  }

  async claimSlot(id: string, limit: number, at: number): Promise<boolean> {
    const claim = this.db.transaction((): boolean => {
      const run = this.statements.queuedRun.get(id) as Pick<RunRow, 'seq' | 'priority' | 'slot_class'> | undefined;
      if (!run) return false;
      const { running } = this.statements.runningCount.get(run.slot_class) as { running: number };
      if (running >= limit) return false;
      const ahead = this.statements.queuedAhead.get({
        slot_class: run.slot_class,
        seq: run.seq,
        priority: run.priority,
      });
      if (ahead) return false;
      return this.statements.startQueued.run(at, id).changes === 1;
    });
    return claim.immediate();
  }

  async recordExecution(id: string, details: ExecutionDetails): Promise<void> {
    const has = (key: keyof ExecutionDetails): number => (key in details ? 1 : 0);
    this.statements.recordExecution.run({
      id,
      set_image: has('image'),
      image: details.image ?? null,
      set_digest: has('environmentDigest'),
      digest: details.environmentDigest ?? null,
      set_tree: has('gitTree'),
      tree: details.gitTree ?? null,
      set_diff: has('gitDiff'),
      diff: details.gitDiff ?? null,
      set_container: has('containerId'),
      container_id: details.containerId ?? null,
      set_pid: has('pid'),
      pid: details.pid ?? null,
      set_owner: has('owner'),
      owner: details.owner ?? null,
    });
  }

  async takeOver(id: string, expectedOwner: string | null, owner: string): Promise<boolean> {
    return this.statements.takeOver.run({ id, expected: expectedOwner, owner }).changes === 1;
  }

  async requestCancel(id: string, at: number): Promise<'cancelled' | 'requested' | 'finished'> {
    const request = this.db.transaction((): 'cancelled' | 'requested' | 'finished' => {
      if (this.statements.cancelQueued.run({ at, id }).changes === 1) return 'cancelled';
      if (this.statements.markCancelRequested.run(at, id).changes === 1) return 'requested';
      if (!this.statements.idExists.get(id)) throw new RunNotFoundError(id, this.location);
      return 'finished';
    });
    return request.immediate();
  }

  async cancelRequestedAt(id: string): Promise<number | null> {
    const row = this.statements.cancelRequestedAt.get(id) as { at: number | null } | undefined;
    return row?.at ?? null;
  }

  async appendMetrics(id: string, points: readonly MetricPoint[], at: number): Promise<void> {
    if (points.length === 0) return;
    this.db.transaction(() => this.insertMetrics(id, points, at)).immediate();
  }

  async metrics(id: string): Promise<MetricSeries[]> {
    const rows = this.statements.metricsOf.all(id) as { name: string; step: number; value: number }[];
    const byName = new Map<string, MetricSeries>();
    for (const row of rows) {
      let series = byName.get(row.name);
      if (!series) {
        series = { name: row.name, points: [] };
        byName.set(row.name, series);
      }
      series.points.push({ step: row.step, value: row.value });
    }
    return [...byName.values()];
  }

  async appendLog(id: string, entries: readonly NewLogEntry[]): Promise<LogEntry[]> {
    if (entries.length === 0) return [];
    const append = this.db.transaction((): LogEntry[] => {
      const { last } = this.statements.lastLogSeq.get(id) as { last: number };
      return entries.map((entry, index) => {
        const seq = last + index + 1;
        this.statements.insertLog.run(id, seq, entry.stream, entry.at, entry.text);
        return { seq, stream: entry.stream, at: entry.at, text: entry.text };
      });
    });
    return append.immediate();
  }

  async readLog(id: string, afterSeq = 0, limit = -1): Promise<LogEntry[]> {
    return this.statements.logOf.all(id, afterSeq, limit) as LogEntry[];
  }

  async lastLog(id: string): Promise<LogEntry | undefined> {
    return this.statements.lastLog.get(id) as LogEntry | undefined;
  }

  async recordInputs(id: string, inputs: readonly RunInput[]): Promise<void> {
    const record = this.db.transaction(() => {
      for (const input of inputs) this.statements.upsertInput.run(id, input.path, input.md5);
    });
    record.immediate();
  }

  async recordArtifacts(id: string, artifacts: readonly RunArtifact[]): Promise<void> {
    const record = this.db.transaction(() => {
      for (const artifact of artifacts) this.statements.upsertArtifact.run(id, artifact.path, artifact.md5, artifact.size);
    });
    record.immediate();
  }

  async setTags(id: string, tags: readonly string[]): Promise<void> {
    this.statements.setTags.run(JSON.stringify([...new Set(tags)].sort()), id);
  }

  async setNote(id: string, note: string | null): Promise<void> {
    this.statements.setNote.run(note, id);
  }

  async delete(id: string): Promise<boolean> {
    return this.statements.deleteRun.run(id).changes === 1;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** SQLite's own consistency check (`ok` when the file is sound); for tests and `mlw doctor`. */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }
}

function prepareStatements(db: Database) {
  return {
    insertRun: db.prepare(`
      INSERT INTO runs (id, name, task, dag_file, dag_run_id, command, workdir, environment, executor, status,
        priority, slot_class, created_at, git_commit, git_branch, resources, outputs, owner, spec, params_json)
      VALUES (@id, @name, @task, @dag_file, @dag_run_id, @command, @workdir, @environment, @executor, 'queued',
        @priority, @slot_class, @created_at, @git_commit, @git_branch, @resources, @outputs, @owner, @spec, @params_json)`),
    insertFinishedRun: db.prepare(`
      INSERT INTO runs (id, name, task, dag_file, dag_run_id, command, workdir, environment, executor, status,
        status_reason, exit_code, priority, slot_class, created_at, started_at, ended_at, git_commit, git_branch,
        resources, outputs, owner, spec, params_json, tags_json)
      VALUES (@id, @name, @task, @dag_file, @dag_run_id, @command, @workdir, @environment, @executor, 'succeeded',
        @status_reason, @exit_code, @priority, @slot_class, @created_at, @started_at, @ended_at, @git_commit, @git_branch,
        @resources, @outputs, @owner, @spec, @params_json, @tags_json)`),
    runById: db.prepare('SELECT * FROM runs WHERE id = ?'),
    inputsOf: db.prepare('SELECT path, md5 FROM run_inputs WHERE run_id = ? ORDER BY path'),
    artifactsOf: db.prepare('SELECT path, md5, size FROM run_artifacts WHERE run_id = ? ORDER BY path'),
    idExists: db.prepare('SELECT id FROM runs WHERE id = ?'),
    idsWithPrefix: db.prepare('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6'),
    list: db.prepare(`
      SELECT summary_json FROM runs
      WHERE (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
        AND (@dag_run_id IS NULL OR dag_run_id = @dag_run_id)
      ORDER BY seq DESC
      LIMIT @limit`).pluck(true),
    active: db.prepare(`
      SELECT id, status, executor, container_id, pid, owner, slot_class, priority, cancel_requested_at FROM runs
      WHERE status IN ('queued', 'running') ORDER BY seq`),
    specOf: db.prepare('SELECT spec FROM runs WHERE id = ?'),
    transition: db.prepare(`
      UPDATE runs SET
        status = @to,
        status_reason = coalesce(@reason, status_reason),
        exit_code = coalesce(@exit_code, exit_code),
        oom_killed = coalesce(@oom_killed, oom_killed),
        started_at = coalesce(started_at, @started_at),
        ended_at = coalesce(@ended_at, ended_at)
      WHERE id = @id AND status IN (SELECT value FROM json_each(@from))`),
    queuedRun: db.prepare("SELECT seq, priority, slot_class FROM runs WHERE id = ? AND status = 'queued'"),
    runningCount: db.prepare("SELECT count(*) AS running FROM runs WHERE slot_class = ? AND status = 'running'"),
    queuedAhead: db.prepare(`
      SELECT 1 FROM runs
      WHERE slot_class = @slot_class AND status = 'queued' AND seq <> @seq
        AND (priority > @priority OR (priority = @priority AND seq < @seq))
      LIMIT 1`),
    startQueued: db.prepare(
      "UPDATE runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
    ),
    recordExecution: db.prepare(`
      UPDATE runs SET
        image = CASE WHEN @set_image THEN @image ELSE image END,
        environment_digest = CASE WHEN @set_digest THEN @digest ELSE environment_digest END,
        git_tree = CASE WHEN @set_tree THEN @tree ELSE git_tree END,
        git_diff = CASE WHEN @set_diff THEN @diff ELSE git_diff END,
        dirty = CASE WHEN @set_diff THEN coalesce(length(@diff), 0) > 0 ELSE dirty END,
        container_id = CASE WHEN @set_container THEN @container_id ELSE container_id END,
        pid = CASE WHEN @set_pid THEN @pid ELSE pid END,
        owner = CASE WHEN @set_owner THEN @owner ELSE owner END
      WHERE id = @id`),
    upsertMetric: db.prepare(`
      INSERT INTO run_metrics (run_id, name, step, value, recorded_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (run_id, name, step) DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at`),
    upsertLatest: db.prepare(`
      INSERT INTO run_latest_metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)
      ON CONFLICT (run_id, name) DO UPDATE SET step = excluded.step, value = excluded.value
      WHERE excluded.step >= run_latest_metrics.step`),
    takeOver: db.prepare(
      "UPDATE runs SET owner = @owner WHERE id = @id AND owner IS @expected AND status IN ('queued', 'running')",
    ),
    lastLog: db.prepare('SELECT seq, stream, at, text FROM run_logs WHERE run_id = ? ORDER BY seq DESC LIMIT 1'),
    cancelQueued: db.prepare(
      "UPDATE runs SET status = 'cancelled', status_reason = 'cancelled before it started', ended_at = @at, cancel_requested_at = @at WHERE id = @id AND status = 'queued'",
    ),
    markCancelRequested: db.prepare(
      "UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE id = ? AND status = 'running'",
    ),
    cancelRequestedAt: db.prepare('SELECT cancel_requested_at AS at FROM runs WHERE id = ?'),
    refreshLatestJson: db.prepare(`
      UPDATE runs SET latest_json = (
        SELECT json_group_object(name, json_object('step', step, 'value', value)) FROM run_latest_metrics WHERE run_id = @id
      ) WHERE id = @id`),
    metricsOf: db.prepare('SELECT name, step, value FROM run_metrics WHERE run_id = ? ORDER BY name, step'),
    lastLogSeq: db.prepare('SELECT coalesce(max(seq), 0) AS last FROM run_logs WHERE run_id = ?'),
    insertLog: db.prepare('INSERT INTO run_logs (run_id, seq, stream, at, text) VALUES (?, ?, ?, ?, ?)'),
    logOf: db.prepare('SELECT seq, stream, at, text FROM run_logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    upsertInput: db.prepare(
      'INSERT INTO run_inputs (run_id, path, md5) VALUES (?, ?, ?) ON CONFLICT (run_id, path) DO UPDATE SET md5 = excluded.md5',
    ),
    upsertArtifact: db.prepare(`
      INSERT INTO run_artifacts (run_id, path, md5, size) VALUES (?, ?, ?, ?)
      ON CONFLICT (run_id, path) DO UPDATE SET md5 = excluded.md5, size = excluded.size`),
    setTags: db.prepare('UPDATE runs SET tags_json = ? WHERE id = ?'),
    setNote: db.prepare('UPDATE runs SET note = ? WHERE id = ?'),
    deleteRun: db.prepare('DELETE FROM runs WHERE id = ?'),
  };
}
