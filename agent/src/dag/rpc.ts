/** The DAG service over JSON-RPC: mlw/dag/listPipelines (what the Pipelines view shows). */
import { listPipelines } from '../../../schemas/protocol/dag';
import type { AgentContext } from '../context';
import { handle, type HandlerEntry } from '../rpc/handlers';
import { dagWorkspaceFor } from './workspace';

export function dagHandlers(context: AgentContext): HandlerEntry[] {
  return [handle(listPipelines, () => dagWorkspaceFor(context).listPipelines())];
}
