/**
 * Push and pull over JSON-RPC: thin handlers over results/publish.ts. They share the runs service's
 * store (the runs RPC module hands it in), so pulled runs reach the Runs view through the same
 * `mlw/runs/changed` notifications as local ones.
 */
import { pullResults, pushResults } from '../../../schemas/protocol/results';
import { handle, type HandlerEntry } from '../rpc/handlers';
import type { RunStore } from '../runs/store';
import { repositoryRoot } from '../runs/snapshot';
import { pullRuns, pushRuns } from './publish';

export function resultsHandlers(workspaceRoot: string, store: () => RunStore): HandlerEntry[] {
  return [
    handle(pushResults, async (params) => {
      const report = await pushRuns(store(), await repositoryRoot(workspaceRoot), {
        ...(params.remote ? { remote: params.remote } : {}),
        ...(params.ids ? { runIds: params.ids } : {}),
      });
      return { remote: report.remote, recorded: [...report.recorded], published: [...report.published] };
    }),
    handle(pullResults, async (params) => {
      const report = await pullRuns(
        store(),
        await repositoryRoot(workspaceRoot),
        params.remote ? { remote: params.remote } : {},
      );
      return { remote: report.remote, imported: [...report.imported] };
    }),
  ];
}
