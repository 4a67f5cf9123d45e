/**
 * The team run store: the same records and behaviour as the SQLite store (store-sqlite.ts), on a
 * PostgreSQL server that a team shares (setting: `MLW_RUN_STORE=postgres://…`).
 *
 * Differences that follow from being a server, not a file:
 * - the schema is migrated on first use (every method waits for it), under an advisory lock so two
 *   agents starting at once do not both apply a migration;
 * - the atomic steps that SQLite gets from `BEGIN IMMEDIATE` take a row lock (`FOR UPDATE`) or an
 *   advisory lock per slot class here;
 * - other processes' changes arrive by LISTEN/NOTIFY (`watchChanges`), since there is no file to watch.
 * `pg` is loaded on first use, like better-sqlite3, so no other command pays for it.
 */
import type * as Pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { AmbiguousRunIdError, RunNotFoundError, RunStoreTooNewError, RunStoreUnavailableError } from './errors';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, RUNS_CHANNEL } from './store-postgres-schema';
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

type PgModule = typeof Pg;

function loadDriver(location: string): PgModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg') as PgModule;
  } catch (error) {
    throw new RunStoreUnavailableError(location, error instanceof Error ? error.message : String(error));
  }
}

/** The connection string without its password, for messages. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable connection string)';
  }
}

export function isPostgresConnectionString(value: string): boolean {
  return /^postgres(ql)?:\/\//.test(value);
}

const SUMMARY_SELECT = `
  json_build_object(
    'id', r.id, 'name', r.name, 'task', r.task, 'dagFile', r.dag_file, 'dagRunId', r.dag_run_id,
    'status', r.status, 'statusReason', r.status_reason, 'exitCode', r.exit_code, 'oomKilled', r.oom_killed,
    'environment', r.environment, 'executor', r.executor, 'gitCommit', r.git_commit, 'gitBranch', r.git_branch,
    'dirty', r.dirty, 'priority', r.priority, 'createdAt', r.created_at, 'startedAt', r.started_at,
    'endedAt', r.ended_at, 'params', r.params, 'tags', r.tags,
    'latestMetrics', coalesce((
      SELECT json_object_agg(m.name, json_build_object('step', m.step, 'value', m.value))
      FROM run_latest_metrics m WHERE m.run_id = r.id), '{}'::json)
  )`;

interface RunRow {
  summary: RunSummary;
  command: string;
  workdir: string;
  image: string | null;
  environment_digest: string | null;
  git_tree: string | null;
  git_diff: string | null;
  resources: RunRecord['resources'];
  outputs: string[];
  note: string | null;
  container_id: string | null;
  pid: number | null;
  owner: string | null;
}

/** BIGINT columns come back as strings from pg; times and ids fit in a double. */
function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function normalizeSummary(summary: RunSummary): RunSummary {
  return {
    ...summary,
    createdAt: Number(summary.createdAt),
    startedAt: numberOrNull(summary.startedAt),
    endedAt: numberOrNull(summary.endedAt),
  };
}

export class PostgresRunStore implements RunStore {
  readonly location: string;
  private readonly pool: Pool;
  private readonly ready: Promise<void>;
  private readonly watches = new Set<{ close(): Promise<void> }>();

  constructor(connectionString: string) {
    this.location = redactConnectionString(connectionString);
    const pg = loadDriver(this.location);
    // BIGINT (times in ms) as numbers: every value we store fits in 2^53.
    pg.types.setTypeParser(20, (text: string) => Number(text));
    this.pool = new pg.Pool({ connectionString, max: 4 });
    // An idle client's error (the server restarted) must not crash the agent; the next query reports it.
    this.pool.on('error', () => undefined);
    this.ready = this.migrate();
    // Callers see the failure on their first call; this keeps it from being reported as unhandled.
    this.ready.catch(() => undefined);
  }

  private async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('mlw_runs_migrations'))");
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
      const current = rows[0]?.version ?? 0;
      if (current > POSTGRES_SCHEMA_VERSION) throw new RunStoreTooNewError(this.location, current, POSTGRES_SCHEMA_VERSION);
      for (const migration of POSTGRES_MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          Date.now(),
        ]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw new RunStoreUnavailableError(this.location, error instanceof Error ? error.message : String(error));
    }
  }

  private async query<Row extends object>(sql: string, values: unknown[] = []): Promise<{ rows: Row[]; rowCount: number }> {
    await this.ready;
    const result = await this.pool.query<Row>(sql, values);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  }

  /** Runs `work` in one transaction on one connection. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async create(run: NewRun): Promise<RunRecord> {
    await this.ready;
    await insertRun(this.pool, run);
    return (await this.get(run.id))!;
  }

  async recordFinished(run: NewRun, details: FinishedRunDetails): Promise<void> {
    await this.transaction(async (client) => {
      await insertRun(client, run);
      await upsertInputs(client, run.id, details.inputs);
      await upsertArtifacts(client, run.id, details.artifacts);
      await upsertMetrics(client, run.id, details.metrics, details.endedAt);
      await client.query('UPDATE runs SET tags = $2 WHERE id = $1', [run.id, JSON.stringify([...new Set(details.tags)].sort())]);
      await updateStatus(client, run.id, 'running', { at: details.startedAt });
      const done = await updateStatus(client, run.id, 'succeeded', { at: details.endedAt, exitCode: details.exitCode, reason: details.reason });
      if (!done) throw new Error(`run ${run.id} could not be recorded as succeeded`);
    });
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const { rows } = await this.query<RunRow>(
      `SELECT ${SUMMARY_SELECT} AS summary, command, workdir, image, environment_digest, git_tree, git_diff,
         resources, outputs, note, container_id, pid, owner
       FROM runs r WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    const [inputs, artifacts] = await Promise.all([
      this.query<RunInput>('SELECT path, md5 FROM run_inputs WHERE run_id = $1 ORDER BY path', [id]),
      this.query<RunArtifact>('SELECT path, md5, size FROM run_artifacts WHERE run_id = $1 ORDER BY path', [id]),
    ]);
    return {
      ...normalizeSummary(row.summary),
      command: row.command,
      workdir: row.workdir,
      image: row.image,
      environmentDigest: row.environment_digest,
      gitTree: row.git_tree,
      gitDiff: row.git_diff,
      resources: row.resources,
      outputs: row.outputs,
      note: row.note,
      inputs: inputs.rows,
      artifacts: artifacts.rows.map((artifact) => ({ ...artifact, size: Number(artifact.size) })),
      containerId: row.container_id,
      pid: row.pid,
      owner: row.owner,
    };
  }

  async resolveId(prefix: string): Promise<string> {
    const lower = prefix.toLowerCase();
    const { rows } = await this.query<{ id: string }>(
      'SELECT id FROM runs WHERE id = $1 OR (id >= $2 AND id < $3) ORDER BY id <> $1, id LIMIT 6',
      [prefix, lower, `${lower}~`],
    );
    if (rows[0]?.id === prefix) return prefix;
    if (rows.length === 0) throw new RunNotFoundError(prefix, this.location);
    if (rows.length > 1) throw new AmbiguousRunIdError(prefix, rows.map((row) => row.id));
    return rows[0]!.id;
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const { rows } = await this.query<{ summary: RunSummary }>(
      `SELECT ${SUMMARY_SELECT} AS summary FROM runs r
       WHERE ($1::text[] IS NULL OR r.status = ANY($1))
         AND ($2::text IS NULL OR r.dag_run_id = $2)
       ORDER BY r.seq DESC
       LIMIT $3`,
      [filter.status && filter.status.length > 0 ? [...filter.status] : null, filter.dagRunId ?? null, filter.limit ?? null],
    );
    return rows.map((row) => normalizeSummary(row.summary));
  }

  async active(): Promise<ActiveRun[]> {
    const { rows } = await this.query<{
      id: string;
      status: 'queued' | 'running';
      executor: 'docker' | 'local';
      container_id: string | null;
      pid: number | null;
      owner: string | null;
      slot_class: SlotClass;
      priority: number;
      cancel_requested_at: number | null;
    }>(
      `SELECT id, status, executor, container_id, pid, owner, slot_class, priority, cancel_requested_at FROM runs
       WHERE status IN ('queued', 'running') ORDER BY seq`,
    );
    return rows.map((row) => ({
      id: row.id,
      status: row.status,
      executor: row.executor,
      containerId: row.container_id,
      pid: row.pid,
      owner: row.owner,
      slotClass: row.slot_class,
      priority: row.priority,
      cancelRequestedAt: numberOrNull(row.cancel_requested_at),
    }));
  }

  async spec(id: string): Promise<unknown> {
    const { rows } = await this.query<{ spec: unknown }>('SELECT spec FROM runs WHERE id = $1', [id]);
    if (rows.length === 0) throw new RunNotFoundError(id, this.location);
    return rows[0]!.spec;
  }

  async transition(id: string, to: RunStatus, details: TransitionDetails): Promise<boolean> {
    await this.ready;
    return updateStatus(this.pool, id, to, details);
  }

  async claimSlot(id: string, limit: number, at: number): Promise<boolean> {
    return this.transaction(async (client) => {
      const run = await client.query<{ seq: number; priority: number; slot_class: SlotClass }>(
        "SELECT seq, priority, slot_class FROM runs WHERE id = $1 AND status = 'queued'",
        [id],
      );
      const queued = run.rows[0];
      if (!queued) return false;
      // One claimer per pool at a time, across every agent on the server.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mlw_slots_${queued.slot_class}`]);
      const running = await client.query<{ running: number }>(
        "SELECT count(*)::int AS running FROM runs WHERE slot_class = $1 AND status = 'running'",
        [queued.slot_class],
      );
      if (running.rows[0]!.running >= limit) return false;
      const ahead = await client.query(
        `SELECT 1 FROM runs WHERE slot_class = $1 AND status = 'queued' AND seq <> $2
           AND (priority > $3 OR (priority = $3 AND seq < $2)) LIMIT 1`,
        [queued.slot_class, queued.seq, queued.priority],
      );
      if ((ahead.rowCount ?? 0) > 0) return false;
      const started = await client.query("UPDATE runs SET status = 'running', started_at = $1 WHERE id = $2 AND status = 'queued'", [
        at,
        id,
      ]);
      return started.rowCount === 1;
    });
  }

  async recordExecution(id: string, details: ExecutionDetails): Promise<void> {
    const columns: [keyof ExecutionDetails, string][] = [
      ['image', 'image'],
      ['environmentDigest', 'environment_digest'],
      ['gitTree', 'git_tree'],
      ['gitDiff', 'git_diff'],
      ['containerId', 'container_id'],
      ['pid', 'pid'],
      ['owner', 'owner'],
    ];
    const present = columns.filter(([key]) => key in details);
    if (present.length === 0) return;
    const assignments = present.map(([, column], index) => `${column} = $${index + 2}`);
    const values: unknown[] = present.map(([key]) => details[key] ?? null);
    if ('gitDiff' in details) assignments.push(`dirty = coalesce(length($${values.length + 2}::text), 0) > 0`);
    if ('gitDiff' in details) values.push(details.gitDiff ?? null);
    await this.query(`UPDATE runs SET ${assignments.join(', ')} WHERE id = $1`, [id, ...values]);
  }

  async takeOver(id: string, expectedOwner: string | null, owner: string): Promise<boolean> {
    const { rowCount } = await this.query(
      "UPDATE runs SET owner = $3 WHERE id = $1 AND owner IS NOT DISTINCT FROM $2 AND status IN ('queued', 'running')",
      [id, expectedOwner, owner],
    );
    return rowCount === 1;
  }

  async requestCancel(id: string, at: number): Promise<'cancelled' | 'requested' | 'finished'> {
    return this.transaction(async (client) => {
      const cancelled = await client.query(
        `UPDATE runs SET status = 'cancelled', status_reason = 'cancelled before it started', ended_at = $2,
           cancel_requested_at = $2 WHERE id = $1 AND status = 'queued'`,
        [id, at],
      );
      if (cancelled.rowCount === 1) return 'cancelled';
      const requested = await client.query(
        "UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, $2) WHERE id = $1 AND status = 'running'",
        [id, at],
      );
      if (requested.rowCount === 1) return 'requested';
      const exists = await client.query('SELECT 1 FROM runs WHERE id = $1', [id]);
      if (exists.rowCount === 0) throw new RunNotFoundError(id, this.location);
      return 'finished';
    });
  }

  async cancelRequestedAt(id: string): Promise<number | null> {
    const { rows } = await this.query<{ at: number | null }>('SELECT cancel_requested_at AS at FROM runs WHERE id = $1', [id]);
    return numberOrNull(rows[0]?.at);
  }

  async appendMetrics(id: string, points: readonly MetricPoint[], at: number): Promise<void> {
    if (points.length === 0) return;
    await this.transaction((client) => upsertMetrics(client, id, points, at));
  }

  async metrics(id: string): Promise<MetricSeries[]> {
    const { rows } = await this.query<{ name: string; step: number; value: number }>(
      'SELECT name, step, value FROM run_metrics WHERE run_id = $1 ORDER BY name, step',
      [id],
    );
    const byName = new Map<string, MetricSeries>();
    for (const row of rows) {
      let series = byName.get(row.name);
      if (!series) {
        series = { name: row.name, points: [] };
        byName.set(row.name, series);
      }
      series.points.push({ step: Number(row.step), value: row.value });
    }
    return [...byName.values()];
  }

  async appendLog(id: string, entries: readonly NewLogEntry[]): Promise<LogEntry[]> {
    if (entries.length === 0) return [];
    return this.transaction(async (client) => {
      // The run's row lock orders concurrent appenders, so sequence numbers stay consecutive.
      await client.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [id]);
      const last = await client.query<{ last: number }>('SELECT coalesce(max(seq), 0)::int AS last FROM run_logs WHERE run_id = $1', [id]);
      const first = last.rows[0]!.last + 1;
      const logged = entries.map((entry, index) => ({ seq: first + index, stream: entry.stream, at: entry.at, text: entry.text }));
      await client.query(
        `INSERT INTO run_logs (run_id, seq, stream, at, text)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bigint[], $5::text[])`,
        [id, logged.map((entry) => entry.seq), logged.map((entry) => entry.stream), logged.map((entry) => entry.at), logged.map((entry) => entry.text)],
      );
      return logged;
    });
  }

  async readLog(id: string, afterSeq = 0, limit = -1): Promise<LogEntry[]> {
    const { rows } = await this.query<LogEntry>(
      'SELECT seq, stream, at, text FROM run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [id, afterSeq, limit < 0 ? null : limit],
    );
    return rows;
  }

  async lastLog(id: string): Promise<LogEntry | undefined> {
    const { rows } = await this.query<LogEntry>(
      'SELECT seq, stream, at, text FROM run_logs WHERE run_id = $1 ORDER BY seq DESC LIMIT 1',
      [id],
    );
    return rows[0];
  }

  async recordInputs(id: string, inputs: readonly RunInput[]): Promise<void> {
    await this.ready;
    await upsertInputs(this.pool, id, inputs);
  }

  async recordArtifacts(id: string, artifacts: readonly RunArtifact[]): Promise<void> {
    await this.ready;
    await upsertArtifacts(this.pool, id, artifacts);
  }

  async setTags(id: string, tags: readonly string[]): Promise<void> {
    await this.query('UPDATE runs SET tags = $2 WHERE id = $1', [id, JSON.stringify([...new Set(tags)].sort())]);
  }

  async setNote(id: string, note: string | null): Promise<void> {
    await this.query('UPDATE runs SET note = $2 WHERE id = $1', [id, note]);
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.query('DELETE FROM runs WHERE id = $1', [id]);
    return rowCount === 1;
  }

  /**
   * Calls `onChange` after every commit that touched runs, logs or metrics, from any process
   * (LISTEN/NOTIFY on a connection of its own). Resolves once listening.
   */
  async watchChanges(onChange: () => void): Promise<{ close(): Promise<void> }> {
    await this.ready;
    const client = await this.connect();
    client.on('notification', () => onChange());
    await client.query(`LISTEN ${RUNS_CHANNEL}`);
    let open = true;
    const watch = {
      close: async () => {
        if (!open) return;
        open = false;
        this.watches.delete(watch);
        await client.query(`UNLISTEN ${RUNS_CHANNEL}`).catch(() => undefined);
        client.release();
      },
    };
    this.watches.add(watch);
    return watch;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    // The pool waits for every checked-out client: a listening one must go back first.
    await Promise.all([...this.watches].map((watch) => watch.close()));
    await this.pool.end();
  }
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The pool or one connection inside a transaction: the statements below run on either. */
type Queryable = Pick<PoolClient, 'query'>;

async function insertRun(db: Queryable, run: NewRun): Promise<void> {
  await db.query(
    `INSERT INTO runs (id, name, task, dag_file, dag_run_id, command, workdir, environment, executor, status,
       priority, slot_class, created_at, git_commit, git_branch, resources, outputs, owner, spec, params)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      run.id,
      run.name,
      run.task,
      run.dagFile,
      run.dagRunId,
      run.command,
      run.workdir,
      run.environment,
      run.executor,
      run.priority,
      run.slotClass,
      run.createdAt,
      run.gitCommit,
      run.gitBranch,
      JSON.stringify(run.resources),
      JSON.stringify(run.outputs),
      run.owner,
      JSON.stringify(run.spec ?? null),
      JSON.stringify(sortedRecord(run.params)),
    ],
  );
}

async function updateStatus(db: Queryable, id: string, to: RunStatus, details: TransitionDetails): Promise<boolean> {
  const final = to !== 'running' && to !== 'queued';
  const { rowCount } = await db.query(
    `UPDATE runs SET
       status = $2,
       status_reason = coalesce($4, status_reason),
       exit_code = coalesce($5, exit_code),
       oom_killed = coalesce($6, oom_killed),
       started_at = coalesce(started_at, $7),
       ended_at = coalesce($8, ended_at)
     WHERE id = $1 AND status = ANY($3)`,
    [
      id,
      to,
      statusesLeadingTo(to),
      details.reason ?? null,
      details.exitCode ?? null,
      details.oomKilled === true ? true : null,
      to === 'running' ? details.at : null,
      final ? details.at : null,
    ],
  );
  return rowCount === 1;
}

async function upsertMetrics(db: Queryable, id: string, points: readonly MetricPoint[], at: number): Promise<void> {
  if (points.length === 0) return;
  const names = points.map((point) => point.name);
  const steps = points.map((point) => point.step);
  const values = points.map((point) => point.value);
  // Later points of the same (name, step) in one batch win, as in SQLite's row-by-row upsert.
  await db.query(
    `INSERT INTO run_metrics (run_id, name, step, value, recorded_at)
     SELECT DISTINCT ON (name, step) $1, name, step, value, $5
     FROM unnest($2::text[], $3::bigint[], $4::float8[]) WITH ORDINALITY AS p(name, step, value, n)
     ORDER BY name, step, n DESC
     ON CONFLICT (run_id, name, step) DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at`,
    [id, names, steps, values, at],
  );
  await db.query(
    `INSERT INTO run_latest_metrics (run_id, name, step, value)
     SELECT DISTINCT ON (name) $1, name, step, value
     FROM unnest($2::text[], $3::bigint[], $4::float8[]) WITH ORDINALITY AS p(name, step, value, n)
     ORDER BY name, step DESC, n DESC
     ON CONFLICT (run_id, name) DO UPDATE SET step = excluded.step, value = excluded.value
     WHERE excluded.step >= run_latest_metrics.step`,
    [id, names, steps, values],
  );
}

async function upsertInputs(db: Queryable, id: string, inputs: readonly RunInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await db.query(
    `INSERT INTO run_inputs (run_id, path, md5) SELECT $1, * FROM unnest($2::text[], $3::text[])
     ON CONFLICT (run_id, path) DO UPDATE SET md5 = excluded.md5`,
    [id, inputs.map((input) => input.path), inputs.map((input) => input.md5)],
  );
}

async function upsertArtifacts(db: Queryable, id: string, artifacts: readonly RunArtifact[]): Promise<void> {
  if (artifacts.length === 0) return;
  await db.query(
    `INSERT INTO run_artifacts (run_id, path, md5, size) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[])
     ON CONFLICT (run_id, path) DO UPDATE SET md5 = excluded.md5, size = excluded.size`,
    [id, artifacts.map((artifact) => artifact.path), artifacts.map((artifact) => artifact.md5), artifacts.map((artifact) => artifact.size)],
  );
}
