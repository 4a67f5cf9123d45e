import type { Command } from 'commander';
import { stderrLogger } from '../context';
import { UsageError } from '../errors';

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('Run the language server and mlw/* RPC (what the VS Code extension starts), or a resident agent for `mlw run`.')
    .option('--stdio', 'talk LSP over stdin/stdout (what the extension starts)')
    .option(
      '--serve',
      'stay in the foreground and take over `mlw run` from the command line in this workspace, so a run starts without loading the agent (Ctrl-C to stop; runs in flight go on and a later agent recovers them)',
    )
    .action(async (options: { stdio?: boolean; serve?: boolean }) => {
      if (options.stdio === options.serve) throw new UsageError('agent: pass --stdio (the language server) or --serve (a resident agent for `mlw run`)');
      if (options.stdio) {
        const { runStdioServer } = await import('../server');
        await runStdioServer();
        return;
      }
      const { serveWorkspace } = await import('../runs/resident');
      await serveWorkspace(process.cwd(), stderrLogger);
    });
}
