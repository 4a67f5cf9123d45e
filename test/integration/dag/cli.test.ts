/**
 * `mlw validate` as users run it (the CLI from the sources, in a temp dir): output format, exit
 * codes, --json, discovery honouring .gitignore, the example staying clean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const repoRoot = join(__dirname, '..', '..', '..');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function mlw(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', tsxLoader, join(repoRoot, 'agent', 'src', 'main.ts'), ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function workspace(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-validate-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const VALID = 'version: 1\ntasks:\n  a: { run: x }\n';
const CYCLE = 'version: 1\ntasks:\n  a: { run: x, needs: [b] }\n  b: { run: x, needs: [a] }\n';
const WARNING_ONLY = 'version: 1\ntasks:\n  a: { run: x, inputs: [nowhere.csv] }\n';

void test('errors: FILE:LINE:COL: severity: message on stdout, relative paths, a summary on stderr, exit 1', (t) => {
  const root = workspace(t, { 'pipes/cycle.dag.yaml': CYCLE });
  const { status, stdout, stderr } = mlw(root, 'validate', 'pipes/cycle.dag.yaml');
  assert.equal(status, 1);
  assert.equal(
    stdout,
    'pipes/cycle.dag.yaml:3:24: error: dependency cycle: a → b → a\npipes/cycle.dag.yaml:4:24: error: dependency cycle: b → a → b\n',
  );
  assert.match(stderr, /2 errors, 0 warnings in 1 file/);
});

void test('warnings do not fail: exit 0', (t) => {
  const root = workspace(t, { 'w.dag.yaml': WARNING_ONLY });
  const { status, stdout } = mlw(root, 'validate', 'w.dag.yaml');
  assert.equal(status, 0);
  assert.match(stdout, /^w\.dag\.yaml:3:25: warning: nowhere\.csv: no task writes it/);
});

void test('--json prints one JSON document with every file and the counts', (t) => {
  const root = workspace(t, { 'a.dag.yaml': CYCLE, 'b.dag.yaml': VALID });
  const { status, stdout } = mlw(root, 'validate', '--json', 'a.dag.yaml', 'b.dag.yaml');
  assert.equal(status, 1);
  const report = JSON.parse(stdout) as {
    files: { path: string; diagnostics: { line: number; column: number; code: string; severity: string }[] }[];
    errors: number;
  };
  assert.equal(report.errors, 2);
  assert.deepEqual(
    report.files.map((file) => [file.path, file.diagnostics.map((d) => [d.line, d.column, d.code, d.severity])]),
    [
      ['a.dag.yaml', [[3, 24, 'cycle', 'error'], [4, 24, 'cycle', 'error']]],
      ['b.dag.yaml', []],
    ],
  );
});

void test('a missing file is exit 1 with a message naming it', (t) => {
  const root = workspace(t, { 'b.dag.yaml': VALID });
  const { status, stderr } = mlw(root, 'validate', 'b.dag.yaml', 'nope.dag.yaml');
  assert.equal(status, 1);
  assert.match(stderr, /cannot read nope\.dag\.yaml: no such file/);
});

void test('with no FILE, every DAG file under the directory, honouring .gitignore and skipping node_modules', (t) => {
  const root = workspace(t, {
    '.gitignore': 'ignored/\n*.tmp.dag.yaml\n',
    'dag.yaml': VALID,
    'sub/x.dag.yaml': VALID,
    'sub/.gitignore': 'local.dag.yaml\n',
    'sub/local.dag.yaml': CYCLE,
    'ignored/bad.dag.yaml': CYCLE,
    'scratch.tmp.dag.yaml': CYCLE,
    'node_modules/pkg/dag.yaml': CYCLE,
    'notes.yaml': CYCLE,
  });
  const { status, stdout, stderr } = mlw(root, 'validate', '--json');
  assert.equal(status, 0, stderr);
  assert.deepEqual((JSON.parse(stdout) as { files: { path: string }[] }).files.map((file) => file.path), ['dag.yaml', 'sub/x.dag.yaml']);
});

void test('the example pipeline is clean: `cd examples && mlw validate` exits 0', () => {
  const { status, stdout, stderr } = mlw(join(repoRoot, 'examples'), 'validate');
  assert.equal(status, 0, stdout + stderr);
  assert.equal(stdout, '');
  assert.match(stderr, /0 errors, 0 warnings in 1 file/);
});
