/**
 * The datasets service over JSON-RPC: thin handlers over DataService. Operations that change the
 * workspace send `mlw/data/changed`; those given a `progressToken` send `mlw/data/progress`; a
 * cancelled request aborts a transfer between objects (what was transferred stays, verified).
 */
import type { CancellationToken } from 'vscode-languageserver';
import {
  addDatasets,
  checkoutDatasets,
  dataProgress,
  datasetsChanged,
  datasetFiles,
  datasetStatus,
  datasetVersions,
  diffDatasets,
  fetchDatasets,
  listDatasets,
  pullDatasets,
  pushDatasets,
  verifyDatasets,
} from '../../../schemas/protocol/data';
import type { AgentContext } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import { DataService, type ProgressSink } from './service';

function signalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

export function dataHandlers(context: AgentContext): HandlerEntry[] {
  const root = context.workspaceRoots[0] ?? process.cwd();
  const service = new DataService({ cwd: root, log: context.log });
  const progress = (token: string | undefined): ProgressSink | undefined => {
    const notify = context.notify;
    if (!token || !notify) return undefined;
    return (event) => notify(dataProgress, { token, ...event });
  };
  const changed = (paths: string[]): void => context.notify?.(datasetsChanged, { paths });

  return [
    handle(listDatasets, () => service.list()),
    // The editor asks for every dataset's state in any workspace: none tracked yet is an empty
    // answer (the view's welcome text says how to start), not an error.
    handle(datasetStatus, async (params) =>
      params.paths.length === 0 && !(await service.tracksData()) ? [] : service.status(params.paths, params.remote, params.cloud),
    ),
    handle(addDatasets, async (params) => {
      const results = await service.add(params.paths, progress(params.progressToken));
      changed(results.map((result) => result.path));
      return results;
    }),
    handle(checkoutDatasets, async (params) => {
      const results = await service.checkout(params.paths, { rev: params.rev, force: params.force });
      changed(results.map((result) => result.path));
      return results;
    }),
    handle(pushDatasets, (params, token) => service.push(params.paths, params.remote, progress(params.progressToken), signalOf(token))),
    handle(fetchDatasets, (params, token) => service.fetch(params.paths, { remote: params.remote, rev: params.rev }, progress(params.progressToken), signalOf(token))),
    handle(pullDatasets, async (params, token) => {
      const result = await service.pull(params.paths, { remote: params.remote, rev: params.rev, force: params.force }, progress(params.progressToken), signalOf(token));
      changed(result.checkout.map((entry) => entry.path));
      return result;
    }),
    handle(datasetVersions, (params) => service.versions(params.path, params.limit)),
    handle(datasetFiles, (params) => service.files(params.path, { folder: params.folder, rev: params.rev, limit: params.limit })),
    handle(diffDatasets, (params) => service.diff(params.path, params.from, params.to)),
    handle(verifyDatasets, (params) => service.verify(params.paths)),
  ];
}
