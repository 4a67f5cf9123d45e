/**
 * The runs service over JSON-RPC: thin handlers over RunService, and its events forwarded as the
 * `mlw/runs/changed`, `mlw/runs/log` and `mlw/runs/metric` notifications. The service is opened
 * when the agent starts (so runs a previous agent left are recovered at once); if the store cannot
 * be opened (no native SQLite module), the agent still starts and each runs request says why.
 */
import { isAbsolute, join } from 'node:path';
import {
  cancelRun,
  compareRuns,
  deleteRun,
  getRun,
  listRuns,
  rerunRun,
  runLog,
  runLogs,
  runMetric,
  runMetrics,
  runsChanged,
  startRun,
} from '../../../schemas/protocol/runs';
import type { AgentContext } from '../context';
import { resultsHandlers } from '../results/rpc';
import { handle, type HandlerEntry } from '../rpc/handlers';
import { serveRunHandOffs } from './handoff-server';
import { planCommand, planRequest, planTask } from './launch';
import { RunService } from './service';

export function runsHandlers(context: AgentContext): HandlerEntry[] {
  const root = context.workspaceRoots[0] ?? process.cwd();
  let opened: RunService | undefined;
  let openError: unknown;
  const service = (): RunService => {
    if (opened) return opened;
    if (openError) throw openError;
    try {
      opened = new RunService({ workspaceRoot: root, log: context.log });
    } catch (error) {
      openError = error;
      throw error;
    }
    forwardEvents(opened, context);
    void opened.recover().then(
      (report) => {
        if (report.adopted.length + report.lost.length + report.removedContainers.length > 0) {
          context.log.info(
            `runs: re-attached ${report.adopted.length}, marked lost ${report.lost.length}, removed ${report.removedContainers.length} orphaned container(s)`,
          );
        }
      },
      (error: Error) => context.log.warn(`runs: recovery failed: ${error.message}`),
    );
    return opened;
  };
  // In the agent (which can notify), open now: runs a previous agent left are recovered at start.
  // Elsewhere (a test listing handlers) nothing is opened until a request needs it.
  if (context.notify) {
    try {
      const opened = service();
      // Only where the user trusts the workspace: a hand-off runs the command it is given.
      if (context.workspaceTrusted) void serveRunHandOffs({ service: opened, log: context.log }).catch((error: Error) => context.log.warn(`runs: not accepting \`mlw run\` hand-offs: ${error.message}`));
    } catch (error) {
      context.log.warn(`runs: the run store is unavailable: ${(error as Error).message}`);
    }
  }

  return [
    handle(listRuns, (params) =>
      service().list({
        ...(params.status ? { status: params.status } : {}),
        ...(params.dagRunId ? { dagRunId: params.dagRunId } : {}),
        ...(params.limit ? { limit: params.limit } : {}),
      }),
    ),
    handle(getRun, (params) => service().get(params.id)),
    handle(runMetrics, async (params) => service().store.metrics(await service().store.resolveId(params.id))),
    handle(runLogs, async (params) => {
      const run = await service().get(params.id);
      return { entries: await service().store.readLog(run.id, params.afterSeq ?? 0, params.limit ?? -1), status: run.status };
    }),
    handle(startRun, async (params) => {
      const plans = params.command
        ? [
            await planCommand({
              workspaceRoot: root,
              command: params.command,
              environment: params.environment ?? null,
              params: params.params,
              priority: params.priority,
            }),
          ]
        : await planTask({
            workspaceRoot: root,
            dagFile: isAbsolute(params.dagFile!) ? params.dagFile! : join(root, params.dagFile!),
            task: params.task!,
            params: params.params,
            priority: params.priority,
          });
      const ids: string[] = [];
      for (const plan of plans) ids.push(await service().submit(plan));
      return { ids };
    }),
    handle(cancelRun, async (params) => ({ status: await service().cancel(params.id) })),
    handle(rerunRun, async (params) => {
      const plan = await service().planOf(params.id);
      const ids: string[] = [];
      for (const again of await planRequest(root, plan.request)) ids.push(await service().submit(again));
      return { ids };
    }),
    handle(deleteRun, async (params) => {
      await service().delete(params.id);
      return { deleted: true };
    }),
    handle(compareRuns, (params) => service().compare(params.ids)),
    ...resultsHandlers(root, service, context.log),
  ];
}

function forwardEvents(service: RunService, context: AgentContext): void {
  const notify = context.notify;
  if (!notify) return;
  service.on('changed', (id, run) => notify(runsChanged, { id, run }));
  service.on('log', (id, entries) => notify(runLog, { id, entries }));
  service.on('metric', (id, points) => notify(runMetric, { id, points }));
}
