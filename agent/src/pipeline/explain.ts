/**
 * What a DAG run would do now, before anything runs: each selected task will run or be cached, and
 * why — which input, param, command or environment changed since its last successful run, or that
 * there was none, or that a task it depends on will run (its outputs may change).
 */
import type { PipelineExplanation, TaskExplanation } from '../../../schemas/protocol/pipeline';
import type { RunStore } from '../runs/store';
import { artifactCacheRoot, expectedMd5, FingerprintIndex } from './cache';
import type { PipelineDefinition } from './definition';
import { describeChanges, fingerprintTask, type EnvironmentDigester } from './fingerprint';
import { lookUpCache } from './lookup';

export interface ExplainOptions {
  readonly workspaceRoot: string;
  readonly store: RunStore;
  readonly pipeline: PipelineDefinition;
  readonly selected: readonly string[];
  readonly environmentDigest: EnvironmentDigester;
  readonly force?: boolean;
}

export async function explainPipeline(options: ExplainOptions): Promise<PipelineExplanation> {
  const { pipeline } = options;
  const index = FingerprintIndex.forWorkspace(options.workspaceRoot);
  const cacheRoot = artifactCacheRoot(options.workspaceRoot);
  const selected = new Set(options.selected);
  const decisions = new Map<string, TaskExplanation>();
  // Outputs cached upstream tasks will restore: downstream inputs are judged by what they will hold.
  const restored = new Map<string, string>();
  for (const name of options.selected) {
    const instance = pipeline.instances.get(name)!;
    const explain = (decision: TaskExplanation['decision'], reasons: string[], cachedFrom: string | null = null) =>
      decisions.set(name, { name, task: instance.task, decision, reasons, cachedFrom });
    const upstreamRunning = [...pipeline.graph.upstream.get(name)!.keys()].filter(
      (other) => selected.has(other) && decisions.get(other)?.decision === 'will-run',
    );
    if (!instance.cache) {
      explain('will-run', ['cache: false (it always runs)']);
      continue;
    }
    if (options.force) {
      explain('will-run', ['--force']);
      continue;
    }
    if (upstreamRunning.length > 0) {
      explain('will-run', upstreamRunning.map((other) => `${other} will run (its outputs may change)`));
      continue;
    }
    const fingerprint = await fingerprintTask(
      instance.plan,
      instance.spec,
      await options.environmentDigest(instance.plan.environment),
      restored,
    );
    const found = await lookUpCache(options.store, index, cacheRoot, fingerprint.digest);
    if ('hit' in found) {
      for (const output of found.hit.outputs) {
        const md5 = expectedMd5(output, found.hit.artifacts);
        if (md5 !== undefined) restored.set(output.path, md5);
      }
      explain('cached', [`unchanged since run ${found.hit.runId}`], found.hit.runId);
      continue;
    }
    const latest = await index.latestFor(pipeline.dagFile, name);
    if (!latest) {
      explain('will-run', ['no earlier run']);
      continue;
    }
    const changes = describeChanges(latest.parts, fingerprint.parts);
    explain('will-run', changes.length > 0 ? changes.map((change) => `${change} since run ${latest.runId}`) : [found.miss]);
  }
  return { dagFile: pipeline.dagFile, tasks: options.selected.map((name) => decisions.get(name)!) };
}
