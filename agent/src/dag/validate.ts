/**
 * Validates a DAG file's text: every check of DESIGN's "What the editor reports while typing",
 * each diagnostic at the exact range of the offending YAML node. Pure: text (and a workspace probe)
 * in, diagnostics and the model out; knows nothing of LSP or files. Never throws: a bug of ours
 * becomes one `internal-error` diagnostic.
 */
import { causeLocation, buildDependencyGraph, findCycles, type Cycle, type DependencyGraph, type EdgeCause } from './graph';
import { parseDagDocument, type DagDocument, type ParseLimits } from './document';
import { buildDagModel, type DagModel, type ModelLimits, type PathEntry, type TaskInstance } from './model';
import { OutputTrie, isTemplated, type OutputConflict } from './paths';
import { environmentKindDiagnostics, schemaDiagnostics, type EntryIssueCache } from './schema-check';
import type { DagDiagnostic, WorkspaceProbe } from './types';

export interface ValidateOptions {
  /** Answers "is this input in the workspace or tracked?"; without it, missing inputs are not reported. */
  readonly probe?: WorkspaceProbe;
  readonly limits?: Partial<ParseLimits & ModelLimits>;
}

export interface ValidationResult {
  /** Sorted by position. */
  readonly diagnostics: DagDiagnostic[];
  readonly model: DagModel;
  /** The instances' dependencies (needs and data edges), as the checks saw them. */
  readonly graph: DependencyGraph;
}

/** At most this many diagnostics are returned (random bytes can yield one per character). */
export const MAX_DIAGNOSTICS = 1000;

export function validateDag(text: string, options: ValidateOptions = {}): ValidationResult {
  let document: DagDocument | undefined;
  try {
    document = parseDagDocument(text, options.limits);
    return checkDag(buildDagModel(document, options.limits), options.probe);
  } catch (error) {
    const fallback = document ?? parseDagDocument('');
    const message = `internal error while validating (please report it): ${(error as Error).message ?? String(error)}`;
    const model = buildDagModel(parseDagDocument(''));
    return {
      diagnostics: [fallback.diagnostic({ start: 0, end: 0 }, 'error', 'internal-error', message)],
      model,
      graph: { instances: [], dependencies: [], causes: [] },
    };
  }
}

/**
 * Every check, on a model built from its document (validateDag's second half; incremental.ts
 * calls it on a model it patched). Throws what the checks throw.
 */
export function checkDag(model: DagModel, probe?: WorkspaceProbe, schemaCache?: EntryIssueCache): ValidationResult {
  const document = model.document;
  const outputs = new OutputTrie(model.instances);
  const graph = buildDependencyGraph(model.instances, outputs);
  const diagnostics = [...document.problems];
  if (document.yaml) {
    diagnostics.push(...schemaDiagnostics(document, schemaCache), ...environmentKindDiagnostics(model), ...modelDiagnostics(model, outputs, graph, probe));
  }
  return { diagnostics: sortAndCap(diagnostics), model, graph };
}

/** The reference, path and graph checks, on a model built from a parsed file. */
function modelDiagnostics(model: DagModel, outputs: OutputTrie, graph: DependencyGraph, probe?: WorkspaceProbe): DagDiagnostic[] {
  return [
    ...matrixSizeDiagnostics(model),
    ...needDiagnostics(model),
    ...environmentDiagnostics(model),
    ...templateDiagnostics(model),
    ...unusedParamDiagnostics(model),
    ...conflictDiagnostics(model, outputs.conflicts()),
    ...(probe ? missingInputDiagnostics(model, outputs, probe) : []),
    ...cycleDiagnostics(model, graph, findCycles(graph)),
  ];
}

function matrixSizeDiagnostics(model: DagModel): DagDiagnostic[] {
  const diagnostics: DagDiagnostic[] = [];
  for (const task of model.tasks.values()) {
    if (!task.matrixTooLarge) continue;
    const span = task.matrix[0]?.key.span ?? task.key.span;
    const { combinations, limit } = task.matrixTooLarge;
    const message = `the matrix of task "${task.name}" expands to ${combinations.toLocaleString('en')} combinations; at most ${limit.toLocaleString('en')} are checked`;
    diagnostics.push(model.document.diagnostic(span, 'error', 'too-large', message));
  }
  return diagnostics;
}

function needDiagnostics(model: DagModel): DagDiagnostic[] {
  return model.needRefs
    .filter((ref) => ref.targets.length === 0)
    .map((ref) => {
      const hint = closestName(ref.name, model.tasks.keys());
      const message = `needs "${ref.name}": no task of that name in this file${hint ? ` (did you mean "${hint}"?)` : ''}`;
      return model.document.diagnostic(ref.span, 'error', 'unknown-need', message);
    });
}

function environmentDiagnostics(model: DagModel): DagDiagnostic[] {
  const defined = [...model.environments.keys()];
  const known = defined.length > 0 ? `defined: ${defined.slice(0, 10).join(', ')}${defined.length > 10 ? ', …' : ''}` : 'none is defined';
  return model.environmentRefs
    .filter((ref) => !ref.target)
    .map((ref) => {
      const where = ref.task ? `task "${ref.task.name}"` : 'defaults';
      const message = `environment "${ref.name}" (of ${where}) is not defined under environments: (${known})`;
      return model.document.diagnostic(ref.span, 'error', 'unknown-environment', message);
    });
}

function templateDiagnostics(model: DagModel): DagDiagnostic[] {
  const diagnostics: DagDiagnostic[] = [];
  for (const ref of model.templateRefs) {
    if (ref.kind === 'params') {
      if (model.params.has(ref.name)) continue;
      const hint = closestName(ref.name, model.params.keys());
      const message = `\${params.${ref.name}}: no param "${ref.name}" under params:${hint ? ` (did you mean "${hint}"?)` : ''}`;
      diagnostics.push(model.document.diagnostic(ref.span, 'error', 'undefined-param', message));
    } else {
      if (ref.task.matrix.some((axis) => axis.name === ref.name)) continue;
      const axes = ref.task.matrix.map((axis) => axis.name);
      const message =
        axes.length === 0
          ? `\${matrix.${ref.name}}: task "${ref.task.name}" has no matrix`
          : `\${matrix.${ref.name}}: the matrix of task "${ref.task.name}" has no axis "${ref.name}" (its axes: ${axes.join(', ')})`;
      diagnostics.push(model.document.diagnostic(ref.span, 'error', 'undefined-matrix', message));
    }
  }
  return diagnostics;
}

function unusedParamDiagnostics(model: DagModel): DagDiagnostic[] {
  const used = new Set<string>();
  for (const ref of model.templateRefs) if (ref.kind === 'params') used.add(ref.name);
  return [...model.params.values()]
    .filter((param) => !used.has(param.name))
    .map((param) => model.document.diagnostic(param.key.span, 'hint', 'unused-param', `param "${param.name}" is not used by any task`));
}

function conflictDiagnostics(model: DagModel, conflicts: readonly OutputConflict[]): DagDiagnostic[] {
  const diagnostics: DagDiagnostic[] = [];
  const reported = new Set<string>();
  const report = (entry: PathEntry, other: PathEntry, message: string, relatedMessage: string): void => {
    const key = `${entry.span.start}:${other.span.start}`;
    if (reported.has(key)) return;
    reported.add(key);
    const related = entry === other ? [] : [{ span: other.span, message: relatedMessage }];
    diagnostics.push(model.document.diagnostic(entry.span, 'error', 'output-conflict', message, related));
  };
  for (const { kind, first, second } of conflicts) {
    const [a, b] = [first.output, second.output];
    const [aName, bName] = [first.instance.name, second.instance.name];
    if (kind === 'same') {
      if (a.entry === b.entry) {
        report(a.entry, b.entry, `${aName} and ${bName} both write ${a.path}: make the path differ per matrix value (\${matrix.…})`, '');
        continue;
      }
      report(a.entry, b.entry, `${a.path} is also written by ${bName}`, `${bName} writes ${b.path} here`);
      report(b.entry, a.entry, `${b.path} is also written by ${aName}`, `${aName} writes ${a.path} here`);
    } else {
      report(b.entry, a.entry, `${b.path} is inside ${a.path}/, which ${aName} writes`, `${aName} writes ${a.path}/ here`);
      report(a.entry, b.entry, `${a.path}/ holds ${b.path}, which ${bName} writes`, `${bName} writes ${b.path} here`);
    }
  }
  return diagnostics;
}

function missingInputDiagnostics(model: DagModel, outputs: OutputTrie, probe: WorkspaceProbe): DagDiagnostic[] {
  const missing = new Map<PathEntry, Set<string>>();
  for (const instance of model.instances) {
    for (const input of instance.inputs) {
      if (isTemplated(input.path) || outputs.producersOf(input.path).length > 0) continue;
      if (probe.exists(input.path) || probe.isTracked(input.path)) continue;
      const paths = missing.get(input.entry) ?? new Set<string>();
      paths.add(input.path);
      missing.set(input.entry, paths);
    }
  }
  return [...missing].map(([entry, paths]) => {
    const names = [...paths].slice(0, 5).join(', ');
    const message = `${names}: no task writes it, and it is neither in the workspace nor tracked (no ${[...paths][0]}.dvc)`;
    return model.document.diagnostic(entry.span, 'warning', 'missing-input', message);
  });
}

function cycleDiagnostics(model: DagModel, graph: DependencyGraph, cycles: readonly Cycle[]): DagDiagnostic[] {
  const diagnostics: DagDiagnostic[] = [];
  const reported = new Set<number>();
  for (const cycle of cycles) {
    const names = cycle.members.map((member) => graph.instances[member]!.name);
    cycle.causes.forEach((cause, position) => {
      const span = causeLocation(cause).span;
      if (reported.has(span.start)) return;
      reported.add(span.start);
      // Each edge's diagnostic starts the cycle at its own task: `b → c → a → b` on b's edge.
      const rotated = [...names.slice(position), ...names.slice(0, position)];
      const message = `dependency cycle: ${[...rotated, rotated[0]].join(' → ')}`;
      const related = cycle.causes
        .map((other, index) => ({ other, index }))
        .filter(({ index }) => index !== position)
        .map(({ other, index }) => ({
          span: causeLocation(other).span,
          message: describeEdge(graph.instances[cycle.members[index]!]!, graph.instances[cycle.members[(index + 1) % names.length]!]!, other),
        }));
      diagnostics.push(model.document.diagnostic(span, 'error', 'cycle', message, related));
    });
  }
  return diagnostics;
}

function describeEdge(from: TaskInstance, to: TaskInstance, cause: EdgeCause): string {
  if (cause.kind === 'need') return `${from.name} needs ${to.name}`;
  return `${from.name} reads ${cause.input.raw}, which ${to.name} writes`;
}

/** The closest of a few names by edit distance, when close enough to be a typo. */
function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  let checked = 0;
  for (const candidate of candidates) {
    if (++checked > 2000) break;
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = previous[j - 1]! + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length]!;
}

function sortAndCap(diagnostics: DagDiagnostic[]): DagDiagnostic[] {
  diagnostics.sort(
    (left, right) =>
      left.range.start.line - right.range.start.line ||
      left.range.start.character - right.range.start.character ||
      left.code.localeCompare(right.code),
  );
  return diagnostics.length > MAX_DIAGNOSTICS ? diagnostics.slice(0, MAX_DIAGNOSTICS) : diagnostics;
}
