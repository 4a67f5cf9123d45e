/**
 * The environments service over JSON-RPC: thin handlers over EnvService (for the first workspace
 * root). A build sends its output as `mlw/env/buildLog` (lines batched per turn of the event loop,
 * all sent before the response) and a cancelled request stops it; builds and removals send
 * `mlw/env/changed` so the view refreshes.
 */
import type { CancellationToken } from 'vscode-languageserver';
import {
  buildEnvironment,
  containerizeEnvironment,
  environmentBuildLog,
  environmentsChanged,
  listEnvironments,
  removeEnvironment,
} from '../../../schemas/protocol/env';
import type { AgentContext, Notify } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import type { ProgressSink } from './docker';
import { EnvService } from './service';

const MAX_LINES_PER_NOTIFICATION = 200;

export function envHandlers(context: AgentContext): HandlerEntry[] {
  let service: EnvService | undefined;
  const env = (): EnvService => (service ??= new EnvService({ root: context.workspaceRoots[0] ?? process.cwd(), log: context.log }));
  const changed = (names: string[]): void => context.notify?.(environmentsChanged, { names });

  return [
    handle(listEnvironments, (params) => env().list(params.names)),
    handle(buildEnvironment, async (params, token) => {
      const log = context.notify ? new BuildLog(context.notify, params.token ?? null, params.name) : undefined;
      changed([params.name]); // now building
      try {
        return await env().build(params.name, {
          force: params.force,
          prune: params.prune,
          signal: signalOf(token),
          ...(log ? { progress: log.sink } : {}),
        });
      } finally {
        log?.flush();
        changed([params.name]);
      }
    }),
    handle(removeEnvironment, async (params) => {
      const result = await env().remove(params.name, params.which);
      changed([params.name]);
      return result;
    }),
    handle(containerizeEnvironment, (params) => env().containerize(params.name, { base: params.base, output: params.output, force: params.force })),
  ];
}

/** Collects a build's lines and sends them in batches: one notification per event-loop turn at most. */
class BuildLog {
  private pending: string[] = [];
  private scheduled = false;

  constructor(
    private readonly notify: Notify,
    private readonly token: string | null,
    private readonly name: string,
  ) {}

  readonly sink: ProgressSink = (line) => {
    this.pending.push(line);
    if (this.pending.length >= MAX_LINES_PER_NOTIFICATION) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  };

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.notify(environmentBuildLog, { token: this.token, name: this.name, lines });
  }
}

function signalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}
