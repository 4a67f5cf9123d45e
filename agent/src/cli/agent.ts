import type { Command } from 'commander';
import { UsageError } from '../errors';

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('Run the language server and mlw/* RPC (what the VS Code extension starts).')
    .option('--stdio', 'talk LSP over stdin/stdout (the only transport)')
    .action(async (options: { stdio?: boolean }) => {
      if (!options.stdio) throw new UsageError('agent: pass --stdio (the only transport)');
      const { runStdioServer } = await import('../server');
      await runStdioServer();
    });
}
