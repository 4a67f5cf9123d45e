import { agentInfo } from '../../schemas/protocol';
import type { AgentContext } from './context';
import { handle, type HandlerEntry } from './rpc/handlers';
import { VERSION } from './cli/program';

export const SERVICES = ['dag', 'git', 'data', 'env', 'runs', 'pipeline'] as const;

export function agentHandlers(_context: AgentContext): HandlerEntry[] {
  return [handle(agentInfo, () => ({ version: VERSION, pid: process.pid, services: [...SERVICES] }))];
}
