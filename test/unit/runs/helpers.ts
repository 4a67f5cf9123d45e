import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { NewRun } from '../../../agent/src/runs/store';
import { PostgresRunStore } from '../../../agent/src/runs/store-postgres';

/** A temp dir removed when the test ends. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'mlw-runs-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomBytes(6).toString('hex'),
    name: 'train@rf',
    task: 'train@rf',
    dagFile: 'iris.dag.yaml',
    dagRunId: null,
    command: 'python3 src/train.py --model rf',
    workdir: 'examples/iris',
    environment: 'sklearn',
    executor: 'docker',
    priority: 0,
    slotClass: 'cpu',
    params: { seed: '42' },
    resources: { cpus: 1, memory: '1g' },
    outputs: ['build/models/rf.pkl'],
    gitCommit: 'a'.repeat(40),
    gitBranch: 'main',
    owner: 'test:1',
    spec: { kind: 'test' },
    createdAt: Date.now(),
    ...overrides,
  };
}

export const TEST_POSTGRES_URL = process.env.MLW_TEST_POSTGRES_URL ?? 'postgres://mlw_test:mlw_test@127.0.0.1:5432/mlw_test';

/**
 * A PostgreSQL run store in a schema of its own (created here, dropped after the test), on the
 * test server. Fails — never skips — when the server is not there: these tests are about it.
 */
export async function openPostgresTemp(t: { after: (fn: () => Promise<void>) => void }): Promise<PostgresRunStore> {
  const schema = `mlw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`the test PostgreSQL server at ${TEST_POSTGRES_URL} is not reachable (${(error as Error).message}); start it with scripts/setup/postgres.sh`);
  }
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const store = new PostgresRunStore(url.toString());
  t.after(async () => {
    await store.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  return store;
}
