/** Which workspace folder a CLI command acts on, and opening its runs service. */
import type { Logger } from '../context';
import { RunService } from './service';
import { findWorkspaceRoot } from './workspace-root';

export function openWorkspaceRuns(cwd: string, log: Logger): RunService {
  return new RunService({ workspaceRoot: findWorkspaceRoot(cwd), log });
}
