/**
 * Results over JSON-RPC: thin handlers over results/publish.ts, models.ts and reproduce.ts (push,
 * pull, models, reproduce). They share the runs service (the runs RPC module hands it in), so pulled runs reach the
 * Runs view through the same `mlw/runs/changed` notifications as local ones.
 */
import {
  listModels as listModelsRequest,
  promoteModel,
  pullResults,
  pushResults,
  reproduceRun as reproduceRequest,
} from '../../../schemas/protocol/results';
import type { Logger } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import type { RunService } from '../runs/service';
import { repositoryRoot } from '../runs/snapshot';
import { listModels } from './models';
import { promoteRunModel, pullRuns, pushRuns } from './publish';
import { reproduceRun } from './reproduce';

export function resultsHandlers(workspaceRoot: string, service: () => RunService, log: Logger): HandlerEntry[] {
  return [
    handle(pushResults, async (params) => {
      const report = await pushRuns(service().store, await repositoryRoot(workspaceRoot), {
        ...(params.remote ? { remote: params.remote } : {}),
        ...(params.ids ? { runIds: params.ids } : {}),
        workspaceRoot,
        log,
      });
      return {
        remote: report.remote,
        recorded: [...report.recorded],
        published: [...report.published],
        models: [...report.models],
        artifacts: report.artifacts,
        unpushedCommits: [...report.unpushedCommits],
      };
    }),
    handle(pullResults, async (params) => {
      const report = await pullRuns(service().store, await repositoryRoot(workspaceRoot), {
        ...(params.remote ? { remote: params.remote } : {}),
        workspaceRoot,
        log,
      });
      return {
        remote: report.remote,
        imported: [...report.imported],
        models: [...report.models],
        artifacts: { ...report.artifacts, failed: [...report.artifacts.failed] },
      };
    }),
    handle(listModelsRequest, async () => ({ models: await listModels(await repositoryRoot(workspaceRoot)) })),
    handle(promoteModel, async (params) =>
      promoteRunModel(service().store, await repositoryRoot(workspaceRoot), {
        runId: params.id,
        name: params.name,
        ...(params.artifact !== undefined ? { artifact: params.artifact } : {}),
      }),
    ),
    handle(reproduceRequest, async (params) => {
      const reproduction = await reproduceRun(service(), params.id, log);
      return { ...reproduction, ids: [...reproduction.ids], datasets: [...reproduction.datasets] };
    }),
  ];
}
