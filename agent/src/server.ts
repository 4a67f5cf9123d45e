/**
 * Glue between the LSP connection and the services; no logic of its own lives here.
 * (Language features come from agent/src/dag/*, mlw/* requests from agent/src/services.ts.)
 */
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import { agentReady } from '../../schemas/protocol';
import type { AgentContext, Logger } from './context';
import { attachDagDiagnostics } from './dag/lsp/diagnostics';
import { attachDagFeatures, dagFeatureCapabilities } from './dag/lsp/features';
import { registerHandlers, sendNotification } from './rpc/handlers';
import { allHandlers } from './services';
import { VERSION } from './cli/program';
import { enableGitHelper } from './git/spawner';

function connectionLogger(connection: Connection): Logger {
  return {
    info: (message) => connection.console.info(message),
    warn: (message) => connection.console.warn(message),
    error: (message) => connection.console.error(message),
  };
}

export function startServer(connection: Connection): void {
  // A long-lived agent starts git from a small helper process: forking the agent itself is slow (spawner.ts).
  enableGitHelper();
  const documents = new TextDocuments(TextDocument);
  let context: AgentContext = {
    workspaceRoots: [process.cwd()],
    log: connectionLogger(connection),
    notify: (notification, params) => sendNotification(connection, notification, params),
  };

  connection.onInitialize((params): InitializeResult => {
    const roots = (params.workspaceFolders ?? []).map((folder) => URI.parse(folder.uri).fsPath);
    const options: unknown = params.initializationOptions;
    const workspaceTrusted = typeof options === 'object' && options !== null && (options as { workspaceTrusted?: unknown }).workspaceTrusted === true;
    context = { ...context, workspaceRoots: roots.length > 0 ? roots : [process.cwd()], workspaceTrusted };
    registerHandlers(connection, allHandlers(context));
    return {
      capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, ...dagFeatureCapabilities },
      serverInfo: { name: 'mlw-agent', version: VERSION },
    };
  });

  connection.onInitialized(() => {
    sendNotification(connection, agentReady, {
      version: VERSION,
      pid: process.pid,
      workspaceRoots: [...context.workspaceRoots],
    });
  });

  attachDagDiagnostics(connection, documents, () => context);
  attachDagFeatures(connection, documents);
  documents.listen(connection);
  connection.listen();
}

export async function runStdioServer(): Promise<void> {
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  startServer(connection);
  await new Promise<void>((resolve) => connection.onExit(resolve));
}
