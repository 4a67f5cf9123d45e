/**
 * Issue 2, item 9a: full in-process validation (parse, schema, graph) of a generated DAG of 5,000
 * tasks with matrix expansions and data edges. Target: median ≤ 100 ms.
 *
 *   npx tsx bench/validate-core.ts [--tasks N] [--runs N]
 *
 * The agent runs with AGENT_V8_FLAGS (a larger young generation, see extension/src/agent/launch.ts),
 * so the figure that counts is measured in a Node started with those flags; a second process with
 * Node's defaults is measured after it, for comparison.
 *
 * Prints the median, the spread and where the time goes (each phase measured alone), as JSON-ish
 * lines for bench/RESULTS.md.
 */
import { AGENT_V8_FLAGS } from '../extension/src/agent/launch';
import { parseDagDocument } from '../agent/src/dag/document';
import { buildDagModel } from '../agent/src/dag/model';
import { schemaDiagnostics } from '../agent/src/dag/schema-check';
import type { WorkspaceProbe } from '../agent/src/dag/types';
import { validateDag } from '../agent/src/dag/validate';
import { inRuntime, isRuntimeRun, median } from './measure';

/**
 * A deterministic pipeline: stages of tasks where every tenth task is a matrix over two models,
 * each task reads the previous task's output (a data edge) and every fifth also `needs` a task
 * further back; params and an environment are referenced throughout.
 */
export function generateDag(taskCount: number): string {
  const lines = [
    'version: 1',
    'name: bench',
    'params:',
    '  seed: 42',
    '  test_size: 0.3',
    'environments:',
    '  py:',
    '    docker: { image: python:3.11-slim }',
    'defaults:',
    '  environment: py',
    '  timeout: 30m',
    'tasks:',
  ];
  for (let i = 0; i < taskCount; i++) {
    const matrix = i % 10 === 0;
    const previous = i - 1;
    lines.push(`  t${i}:`);
    lines.push(`    description: step ${i} of the benchmark pipeline`);
    if (matrix) lines.push('    matrix: { model: [rf, gb] }');
    lines.push(`    run: python src/step.py --seed \${params.seed} --test-size \${params.test_size} --step ${i}${matrix ? ' --model ${matrix.model}' : ''}`);
    if (i % 5 === 0 && i >= 20) lines.push(`    needs: [t${i - 20}]`);
    const inputs = ['src/step.py'];
    if (previous >= 0) inputs.push(previous % 10 === 0 ? `build/t${previous}/` : `build/t${previous}/out.csv`);
    lines.push(`    inputs: [${inputs.join(', ')}]`);
    lines.push(`    outputs: ["build/t${i}/${matrix ? '${matrix.model}.pkl' : 'out.csv'}"]`);
  }
  return `${lines.join('\n')}\n`;
}

const everythingPresent: WorkspaceProbe = { exists: () => true, isTracked: () => false };

function time(action: () => unknown, runs: number): number[] {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    action();
    samples.push(performance.now() - start);
  }
  return samples;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

function main(): void {
  const taskCount = option('--tasks', 5000);
  const runs = option('--runs', 30);
  const text = generateDag(taskCount);
  const check = validateDag(text, { probe: everythingPresent });
  const instances = check.model.instances.length;
  const edges = check.graph.dependencies.reduce((sum, targets) => sum + targets.length, 0);
  if (check.diagnostics.length > 0) throw new Error(`the generated DAG is not clean: ${check.diagnostics[0]!.message}`);

  time(() => validateDag(text, { probe: everythingPresent }), 3); // warm-up
  const full = time(() => validateDag(text, { probe: everythingPresent }), runs);
  const parse = time(() => parseDagDocument(text), Math.min(runs, 10));
  const document = parseDagDocument(text);
  const schema = time(() => schemaDiagnostics(document), Math.min(runs, 10));
  const model = time(() => buildDagModel(document), Math.min(runs, 10));

  const format = (samples: number[]): string => `${median(samples).toFixed(1)} ms`;
  process.stdout.write(
    [
      `file: ${taskCount} tasks, ${instances} instances, ${edges} edges, ${(text.length / 1024).toFixed(0)} KB`,
      `full validation: median ${format(full)} over ${runs} runs (min ${Math.min(...full).toFixed(1)}, max ${Math.max(...full).toFixed(1)}); target ≤ 100 ms`,
      `  parse (yaml AST + positions): median ${format(parse)}`,
      `  schema (toJS + zod): median ${format(schema)}`,
      `  model (tasks, refs, instances): median ${format(model)}`,
    ].join('\n') + '\n',
  );
}

/** Measures under the agent's flags, then under Node's defaults for comparison. */
function measureBothHeaps(): void {
  if (isRuntimeRun()) return main(); // one of the runs below
  const heaps: { label: string; flags: readonly string[] }[] = [
    { label: `the agent's V8 flags (${AGENT_V8_FLAGS.join(' ')})`, flags: AGENT_V8_FLAGS },
    { label: "Node's default heap (for comparison)", flags: [] },
  ];
  for (const heap of heaps) {
    process.stdout.write(`== ${heap.label}\n`);
    inRuntime(heap.flags);
  }
}

if (process.argv[1]?.endsWith('validate-core.ts')) measureBothHeaps();
