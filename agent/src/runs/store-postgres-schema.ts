/**
 * The PostgreSQL run store's schema as numbered migrations (applied in order on first use; never
 * edit one that has shipped). It mirrors store-sqlite-schema.ts table for table; JSON columns are
 * jsonb, booleans are booleans, times are BIGINT milliseconds. Listing builds each summary in the
 * query (json_build_object), so there is no summary column to keep in step.
 */
export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The LISTEN/NOTIFY channel every change of the store is announced on. */
export const RUNS_CHANNEL = 'mlw_runs_changed';

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'runs, params, metrics, logs, inputs, artifacts, tags; change notifications',
    sql: `
      CREATE TABLE runs (
        seq BIGSERIAL PRIMARY KEY,
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
        oom_killed BOOLEAN NOT NULL DEFAULT false,
        priority INTEGER NOT NULL DEFAULT 0,
        slot_class TEXT NOT NULL CHECK (slot_class IN ('cpu', 'gpu')),
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        ended_at BIGINT,
        git_commit TEXT,
        git_branch TEXT,
        git_tree TEXT,
        git_diff TEXT,
        dirty BOOLEAN NOT NULL DEFAULT false,
        resources JSONB NOT NULL,
        outputs JSONB NOT NULL,
        note TEXT,
        container_id TEXT,
        pid INTEGER,
        owner TEXT,
        cancel_requested_at BIGINT,
        spec JSONB NOT NULL,
        params JSONB NOT NULL,
        tags JSONB NOT NULL DEFAULT '[]'
      );
      CREATE INDEX runs_active ON runs (slot_class, status, priority DESC, seq) WHERE status IN ('queued', 'running');
      CREATE INDEX runs_dag_run ON runs (dag_run_id, seq) WHERE dag_run_id IS NOT NULL;

      CREATE TABLE run_metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        step BIGINT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        recorded_at BIGINT NOT NULL,
        PRIMARY KEY (run_id, name, step)
      );
      CREATE TABLE run_latest_metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        step BIGINT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (run_id, name)
      );
      CREATE TABLE run_inputs (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        md5 TEXT NOT NULL,
        PRIMARY KEY (run_id, path)
      );
      CREATE TABLE run_artifacts (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        md5 TEXT NOT NULL,
        size BIGINT NOT NULL,
        PRIMARY KEY (run_id, path)
      );
      CREATE TABLE run_logs (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
        at BIGINT NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      );

      -- One notification per statement; NOTIFY folds identical ones within a transaction.
      CREATE FUNCTION mlw_runs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${RUNS_CHANNEL}', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE OR DELETE ON runs FOR EACH STATEMENT EXECUTE FUNCTION mlw_runs_notify();
      CREATE TRIGGER run_logs_notify AFTER INSERT ON run_logs FOR EACH STATEMENT EXECUTE FUNCTION mlw_runs_notify();
      CREATE TRIGGER run_metrics_notify AFTER INSERT OR UPDATE ON run_metrics FOR EACH STATEMENT EXECUTE FUNCTION mlw_runs_notify();
    `,
  },
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;
