/**
 * The pipeline service over JSON-RPC: mlw/pipeline/run starts a DAG run and answers with its id at
 * once (progress follows as mlw/pipeline/changed, the task runs as mlw/runs/changed); explain
 * answers what a run would do; cancel stops a DAG run this agent runs. The services are opened on
 * the first request, so an agent that never runs a pipeline never opens them.
 */
import { cancelPipeline, explainPipeline, pipelineChanged, runPipeline } from '../../../schemas/protocol/pipeline';
import type { AgentContext } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import { RunService } from '../runs/service';
import { PipelineService } from './service';

/** `open` gives the service (tests pass one they close); by default it is opened on first use. */
export function pipelineHandlers(context: AgentContext, open?: () => PipelineService): HandlerEntry[] {
  const root = context.workspaceRoots[0] ?? process.cwd();
  let opened: PipelineService | undefined;
  const service = (): PipelineService => {
    opened ??= open?.() ?? new PipelineService({ runs: new RunService({ workspaceRoot: root, log: context.log }), log: context.log });
    return opened;
  };
  return [
    handle(runPipeline, async (params) => {
      const pipelines = service();
      const dagRun = await pipelines.prepare(params);
      const notify = context.notify;
      if (notify) dagRun.on('changed', (state) => notify(pipelineChanged, state));
      void pipelines.run(dagRun).catch((error: Error) => context.log.error(`pipeline: DAG run ${dagRun.id} ended with an error: ${error.message}`));
      return { dagRunId: dagRun.id };
    }),
    handle(explainPipeline, (params) => service().explain(params)),
    handle(cancelPipeline, (params) => ({ cancelled: service().cancel(params.dagRunId) })),
  ];
}
