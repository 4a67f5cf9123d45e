/**
 * Glue: the DAG language features (completion, hover, definition, symbols, rename) on the connection.
 * PLACEHOLDER until they land (issue 2): declares and serves nothing.
 */
import type { Connection, ServerCapabilities, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';

export const dagFeatureCapabilities: ServerCapabilities = {};

export function attachDagFeatures(_connection: Connection, _documents: TextDocuments<TextDocument>): void {}
