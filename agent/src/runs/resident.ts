/**
 * `mlw agent --serve`: a resident agent for one workspace, in the foreground, that takes over
 * `mlw run` from the command line (agent/src/runs/handoff-server.ts) — the role dockerd plays for
 * `docker run`. It recovers what earlier processes left, supervises the runs handed to it and, when
 * stopped (SIGINT, SIGTERM), leaves runs in flight to the next process's recovery.
 */
import type { Logger } from '../context';
import { UserError } from '../errors';
import { serveRunHandOffs } from './handoff-server';
import { openWorkspaceRuns } from './workspace';

export async function serveWorkspace(cwd: string, log: Logger): Promise<void> {
  const service = openWorkspaceRuns(cwd, log);
  try {
    const report = await service.recover();
    if (report.adopted.length + report.lost.length > 0) log.info(`runs: re-attached ${report.adopted.length}, marked lost ${report.lost.length}`);
    const server = await serveRunHandOffs({ service, log });
    if (!server) throw new UserError('agent --serve: not serving (see the warning above)');
    process.stdout.write(`mlw agent: serving \`mlw run\` for ${service.workspaceRoot} (pid ${process.pid}); Ctrl-C to stop\n`);
    await stopSignal();
    await server.close();
  } finally {
    await service.close();
  }
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
