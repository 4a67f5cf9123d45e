/**
 * Glue: validates open DAG documents as they change and publishes their diagnostics; watches the
 * workspace's DAG files and announces changes (mlw/dag/changed).
 * PLACEHOLDER until the DAG validator lands (issue 2): publishes nothing.
 */
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { AgentContext } from '../../context';

export function attachDagDiagnostics(
  _connection: Connection,
  _documents: TextDocuments<TextDocument>,
  _context: () => AgentContext,
): void {}
