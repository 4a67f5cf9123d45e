/**
 * Push and pull over JSON-RPC: thin handlers over results/publish.ts. They share the runs service's
 * store (the runs RPC module hands it in), so pulled runs reach the Runs view through the same
 * `mlw/runs/changed` notifications as local ones.
 */
import { pullResults, pushResults } from '../../../schemas/protocol/results';
import type { Logger } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import type { RunService } from '../runs/service';
import { repositoryRoot } from '../runs/snapshot';
import { pullRuns, pushRuns } from './publish';

export function resultsHandlers(workspaceRoot: string, service: () => RunService, log: Logger): HandlerEntry[] {
  return [
    handle(pushResults, async (params) => {
      const report = await pushRuns(service().store, await repositoryRoot(workspaceRoot), {
        ...(params.remote ? { remote: params.remote } : {}),
        ...(params.ids ? { runIds: params.ids } : {}),
        workspaceRoot,
        log,
      });
      return { remote: report.remote, recorded: [...report.recorded], published: [...report.published], artifacts: report.artifacts };
    }),
    handle(pullResults, async (params) => {
      const report = await pullRuns(
        service().store,
        await repositoryRoot(workspaceRoot),
        { ...(params.remote ? { remote: params.remote } : {}), workspaceRoot, log },
      );
      return {
        remote: report.remote,
        imported: [...report.imported],
        artifacts: { ...report.artifacts, failed: [...report.artifacts.failed] },
      };
    }),
  ];
}
