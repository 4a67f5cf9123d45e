/**
 * The git service over JSON-RPC: thin handlers over the functions of agent/src/git, each opening the
 * repository that holds `root` (a workspace root or a folder inside one). In the agent, every
 * workspace root that is a repository is watched and changes go out as `mlw/git/changed`.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import {
  checkoutBranch,
  createBranch,
  deleteBranch,
  fetchRemote,
  flowFinish,
  flowStart,
  gitChanged,
  gitProgress,
  gitStatus,
  listBranches,
  mergeBranch,
  pullBranch,
  pushBranch,
  renameBranch,
} from '../../../schemas/protocol/git';
import type { AgentContext } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import { listBranches as list } from './branches';
import { GitError } from './errors';
import { flowFinish as finish, flowStart as start } from './flow';
import * as operations from './operations';
import { openRepo, workingTreeStatus, type Repo } from './repo';
import * as sync from './sync';
import { watchRepo } from './watch';

export function gitHandlers(context: AgentContext): HandlerEntry[] {
  const open = (root: string | undefined): Promise<Repo> => openRepo(folderIn(context, root));
  const progress = (token: string | undefined): { progress?: sync.Progress } => {
    const notify = context.notify;
    if (token === undefined || !notify) return {};
    return { progress: (message, percent) => notify(gitProgress, { token, message, percent }) };
  };
  if (context.notify) startWatching(context);

  return [
    handle(listBranches, async (params) => list(await open(params.root), { includeRemote: params.includeRemote })),
    handle(gitStatus, async (params) => workingTreeStatus(await open(params.root))),
    handle(createBranch, async (params) => operations.createBranch(await open(params.root), params)),
    handle(checkoutBranch, async (params) => operations.checkoutBranch(await open(params.root), params)),
    handle(renameBranch, async (params) => operations.renameBranch(await open(params.root), params)),
    handle(deleteBranch, async (params) => operations.deleteBranch(await open(params.root), params)),
    handle(mergeBranch, async (params) => operations.mergeBranch(await open(params.root), params)),
    handle(fetchRemote, async (params) =>
      sync.fetchRemote(await open(params.root), { remote: params.remote, prune: params.prune, ...progress(params.progressToken) }),
    ),
    handle(pullBranch, async (params) =>
      sync.pullBranch(await open(params.root), { remote: params.remote, rebase: params.rebase, stash: params.stash, ...progress(params.progressToken) }),
    ),
    handle(pushBranch, async (params) => sync.pushBranch(await open(params.root), { remote: params.remote, ...progress(params.progressToken) })),
    handle(flowStart, async (params) => start(await open(params.root), params)),
    handle(flowFinish, async (params) => finish(await open(params.root), params)),
  ];
}

/** The folder a request names: inside one of the workspace roots (the first one when absent). */
function folderIn(context: AgentContext, root: string | undefined): string {
  const roots = context.workspaceRoots.length > 0 ? context.workspaceRoots : [process.cwd()];
  if (root === undefined) return roots[0]!;
  const folder = resolve(roots[0]!, root);
  const inside = roots.some((workspace) => {
    const path = relative(workspace, folder);
    return path === '' || (!path.startsWith('..') && !isAbsolute(path));
  });
  if (!inside) throw new GitError('not-a-repository', `${root} is not inside a workspace folder`);
  return folder;
}

function startWatching(context: AgentContext): void {
  const notify = context.notify!;
  for (const root of context.workspaceRoots) {
    openRepo(root).then(
      (repo) => {
        try {
          watchRepo(repo, () => notify(gitChanged, { root: repo.root }), { persistent: false });
        } catch (error) {
          context.log.warn(`git: cannot watch ${repo.gitDir}: ${(error as Error).message}`);
        }
      },
      () => {
        // Not a repository: nothing to watch (the Branches view says so when it asks).
      },
    );
  }
}
