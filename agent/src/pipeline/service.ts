/**
 * The pipeline service of one workspace: reads a DAG file for execution, starts DAG runs over the
 * runs service, explains, and cancels the DAG runs it started. The CLI (cli/dag.ts) and the RPC
 * handlers (rpc.ts) are thin glue over it.
 */
import { isAbsolute, resolve } from 'node:path';
import type { PipelineExplanation } from '../../../schemas/protocol/pipeline';
import type { Logger } from '../context';
import { DockerApi } from '../runs/executors/docker-api';
import type { RunService } from '../runs/service';
import { loadPipeline, selectInstances, type PipelineDefinition } from './definition';
import { explainPipeline } from './explain';
import { environmentDigester, type EnvironmentDigester } from './fingerprint';
import { DagRun } from './scheduler';
import { checkDagFile } from './validation';

export interface PipelineRequest {
  /** Absolute, or relative to the workspace root. */
  readonly dagFile: string;
  readonly task?: string | undefined;
  readonly from?: string | undefined;
  readonly force?: boolean | undefined;
  readonly params?: Readonly<Record<string, string>> | undefined;
  readonly jobs?: number | undefined;
}

export interface PipelineServiceOptions {
  readonly runs: RunService;
  readonly log: Logger;
  /** The first retry's wait (doubling after); tests make it short. */
  readonly retryBackoffMs?: number;
}

export class PipelineService {
  private readonly active = new Map<string, DagRun>();
  private docker: DockerApi | undefined;
  private readonly digest: EnvironmentDigester;

  constructor(private readonly options: PipelineServiceOptions) {
    this.digest = environmentDigester((image) => {
      this.docker ??= new DockerApi();
      return this.docker.imageId(image);
    });
  }

  get runs(): RunService {
    return this.options.runs;
  }

  /** Reads and checks the DAG file and selects its tasks; the returned DAG run starts with `run()`. */
  async prepare(request: PipelineRequest): Promise<DagRun> {
    const pipeline = await this.load(request);
    const dagRun = new DagRun({
      runs: this.options.runs,
      pipeline,
      selected: selectInstances(pipeline, request),
      environmentDigest: this.digest,
      log: this.options.log,
      force: request.force ?? false,
      ...(request.jobs !== undefined ? { jobs: request.jobs } : {}),
      ...(this.options.retryBackoffMs !== undefined ? { retryBackoffMs: this.options.retryBackoffMs } : {}),
    });
    await dagRun.lock();
    this.active.set(dagRun.id, dagRun);
    return dagRun;
  }

  /** Runs a prepared DAG run to its end and forgets it. */
  async run(dagRun: DagRun): Promise<ReturnType<DagRun['run']>> {
    try {
      return await dagRun.run();
    } finally {
      this.active.delete(dagRun.id);
    }
  }

  async explain(request: PipelineRequest): Promise<PipelineExplanation> {
    const pipeline = await this.load(request);
    return explainPipeline({
      workspaceRoot: this.options.runs.workspaceRoot,
      store: this.options.runs.store,
      pipeline,
      selected: selectInstances(pipeline, request),
      environmentDigest: this.digest,
      force: request.force ?? false,
    });
  }

  /** Cancels a DAG run this process runs; false when there is no such (running) DAG run. */
  cancel(dagRunId: string): boolean {
    const dagRun = this.active.get(dagRunId);
    if (!dagRun) return false;
    dagRun.cancel();
    return true;
  }

  cancelAll(): void {
    for (const dagRun of this.active.values()) dagRun.cancel();
  }

  close(): void {
    this.cancelAll();
    this.docker?.close();
  }

  private async load(request: PipelineRequest): Promise<PipelineDefinition> {
    const root = this.options.runs.workspaceRoot;
    const dagPath = isAbsolute(request.dagFile) ? request.dagFile : resolve(root, request.dagFile);
    await checkDagFile(dagPath, root);
    return loadPipeline(root, dagPath, request.params ?? {});
  }
}
