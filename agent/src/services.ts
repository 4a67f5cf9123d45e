/**
 * Every service's RPC handlers, in one list: the server registers them and a test checks that
 * every request declared in schemas/protocol.ts has exactly one handler here.
 */
import type { AgentContext } from './context';
import type { HandlerEntry } from './rpc/handlers';
import { agentHandlers } from './agent-info';
import { dataHandlers } from './data/rpc';
import { envHandlers } from './env/rpc';
import { gitHandlers } from './git/rpc';
import { dagHandlers } from './dag/rpc';
import { pipelineHandlers } from './pipeline/rpc';
import { runsHandlers } from './runs/rpc';

export function allHandlers(context: AgentContext): HandlerEntry[] {
  return [...agentHandlers(context), ...dagHandlers(context), ...gitHandlers(context), ...pipelineHandlers(context), ...runsHandlers(context), ...dataHandlers(context), ...envHandlers(context)];
}
