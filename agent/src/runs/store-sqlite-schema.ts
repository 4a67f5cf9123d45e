/**
 * The SQLite run store's schema as numbered migrations. A database records which it has applied
 * (`schema_migrations`); opening applies the missing ones in order, each in its own transaction.
 * Never edit a migration that has shipped: add the next one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The columns summary_json is built from, by RunSummary field. */
const SUMMARY_FIELDS: readonly (readonly [field: string, column: string, kind: 'value' | 'boolean' | 'json'])[] = [
  ['id', 'id', 'value'],
  ['name', 'name', 'value'],
  ['task', 'task', 'value'],
  ['dagFile', 'dag_file', 'value'],
  ['dagRunId', 'dag_run_id', 'value'],
  ['status', 'status', 'value'],
  ['statusReason', 'status_reason', 'value'],
  ['exitCode', 'exit_code', 'value'],
  ['oomKilled', 'oom_killed', 'boolean'],
  ['environment', 'environment', 'value'],
  ['executor', 'executor', 'value'],
  ['gitCommit', 'git_commit', 'value'],
  ['gitBranch', 'git_branch', 'value'],
  ['dirty', 'dirty', 'boolean'],
  ['priority', 'priority', 'value'],
  ['createdAt', 'created_at', 'value'],
  ['startedAt', 'started_at', 'value'],
  ['endedAt', 'ended_at', 'value'],
  ['params', 'params_json', 'json'],
  ['tags', 'tags_json', 'json'],
  ['latestMetrics', 'latest_json', 'json'],
];

const SUMMARY_JSON = `json_object(${SUMMARY_FIELDS.map(([field, column, kind]) => {
  const value =
    kind === 'boolean' ? `json(CASE WHEN ${column} THEN 'true' ELSE 'false' END)` : kind === 'json' ? `json(${column})` : column;
  return `'${field}', ${value}`;
}).join(', ')})`;

const SUMMARY_SOURCE_COLUMNS = SUMMARY_FIELDS.filter(([field]) => field !== 'id')
  .map(([, column]) => column)
  .join(', ');

// Migration 1 is built from SUMMARY_FIELDS; once it has shipped, a change to the summary is a new
// migration that drops and recreates the two triggers and rebuilds summary_json.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, params, metrics, logs, inputs, artifacts, tags',
    sql: `
      CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        task TEXT,
        dag_file TEXT,
        dag_run_id TEXT,
        command TEXT NOT NULL,
        workdir TEXT NOT NULL,
        environment TEXT,
        executor TEXT NOT NULL CHECK (executor IN ('docker', 'local')),
        image TEXT,
        environment_digest TEXT,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost')),
        status_reason TEXT,
        exit_code INTEGER,
        oom_killed INTEGER NOT NULL DEFAULT 0,
        priority INTEGER NOT NULL DEFAULT 0,
        slot_class TEXT NOT NULL CHECK (slot_class IN ('cpu', 'gpu')),
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        git_commit TEXT,
        git_branch TEXT,
        git_tree TEXT,
        git_diff TEXT,
        dirty INTEGER NOT NULL DEFAULT 0,
        resources TEXT NOT NULL,
        outputs TEXT NOT NULL,
        note TEXT,
        container_id TEXT,
        pid INTEGER,
        owner TEXT,
        -- Set by whoever cancels a running run; its supervisor sees it, stops the run, and only
        -- then moves it to cancelled (so status and end time say what really happened).
        cancel_requested_at INTEGER,
        spec TEXT NOT NULL,
        params_json TEXT NOT NULL,
        tags_json TEXT NOT NULL DEFAULT '[]',
        -- Maintained by appendMetrics (from run_latest_metrics) and the triggers below: listing
        -- 10,000 runs then reads one string a row, and JSON.parse is the fastest way to build the
        -- objects (a join of runs, params and metrics materialized column by column took 3x longer).
        latest_json TEXT NOT NULL DEFAULT '{}',
        summary_json TEXT
      );
      -- Only unfinished runs are looked up by status (queue, recovery): a partial index stays tiny.
      CREATE INDEX runs_active ON runs (slot_class, status, priority DESC, seq) WHERE status IN ('queued', 'running');
      CREATE INDEX runs_dag_run ON runs (dag_run_id, seq) WHERE dag_run_id IS NOT NULL;

      -- summary_json: the run as a listing shows it (a RunSummary), rebuilt
      -- by these triggers whenever a column it shows changes, so it can never drift.
      CREATE TRIGGER runs_summary_after_insert AFTER INSERT ON runs BEGIN
        UPDATE runs SET summary_json = ${SUMMARY_JSON} WHERE seq = NEW.seq;
      END;
      CREATE TRIGGER runs_summary_after_update AFTER UPDATE OF ${SUMMARY_SOURCE_COLUMNS} ON runs BEGIN
        UPDATE runs SET summary_json = ${SUMMARY_JSON} WHERE seq = NEW.seq;
      END;


      CREATE TABLE run_metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        step INTEGER NOT NULL,
        value REAL NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, name, step)
      ) WITHOUT ROWID;

      -- Kept in step with run_metrics in the same transaction, so listing runs with their latest
      -- metrics reads one row per metric instead of scanning every series.
      CREATE TABLE run_latest_metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        step INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (run_id, name)
      ) WITHOUT ROWID;


      CREATE TABLE run_inputs (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        md5 TEXT NOT NULL,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;

      CREATE TABLE run_artifacts (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        md5 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;

      CREATE TABLE run_logs (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
        at INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
