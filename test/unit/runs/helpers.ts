import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewRun } from '../../../agent/src/runs/store';

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
