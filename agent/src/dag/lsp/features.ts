/**
 * Glue: the DAG language features (completion, hover, definition, document symbols, rename) on the
 * connection. The features themselves are pure functions in agent/src/dag/features/; this file
 * finds the open document, builds its model once per version and turns refusals into errors.
 */
import {
  ErrorCodes,
  ResponseError,
  type Connection,
  type ServerCapabilities,
  type TextDocuments,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { posix } from 'node:path';
import { URI } from 'vscode-uri';
import { isDagFileName } from '../discover';
import { parseDagModel, type DagModel } from '../model';
import { completionsAt } from '../features/completion';
import { definitionAt } from '../features/definition';
import { hoverAt } from '../features/hover';
import { prepareRenameAt, renameAt } from '../features/rename';
import { documentSymbols } from '../features/symbols';

export const dagFeatureCapabilities: ServerCapabilities = {
  completionProvider: { triggerCharacters: ['.', '[', ',', ' '], resolveProvider: false },
  hoverProvider: true,
  definitionProvider: true,
  documentSymbolProvider: { label: 'DAG' },
  renameProvider: { prepareProvider: true },
};

/** DAG files: the `mlw-dag` language, or by name when the editor calls them `yaml`. */
export function isDagDocument(document: TextDocument): boolean {
  return document.languageId === 'mlw-dag' || isDagFileName(posix.basename(URI.parse(document.uri).path));
}

export function attachDagFeatures(connection: Connection, documents: TextDocuments<TextDocument>): void {
  const models = new Map<string, { version: number; model: DagModel }>();
  documents.onDidClose((event) => models.delete(event.document.uri));

  const modelOf = (uri: string): DagModel | undefined => {
    const document = documents.get(uri);
    if (!document || !isDagDocument(document)) return undefined;
    const cached = models.get(uri);
    if (cached && cached.version === document.version) return cached.model;
    const model = parseDagModel(document.getText());
    models.set(uri, { version: document.version, model });
    return model;
  };

  connection.onCompletion((params) => {
    const model = modelOf(params.textDocument.uri);
    return model ? completionsAt(model, params.position) : null;
  });
  connection.onHover((params) => {
    const model = modelOf(params.textDocument.uri);
    return model ? hoverAt(model, params.position) : null;
  });
  connection.onDefinition((params) => {
    const model = modelOf(params.textDocument.uri);
    return model ? definitionAt(model, params.textDocument.uri, params.position) : null;
  });
  connection.onDocumentSymbol((params) => {
    const model = modelOf(params.textDocument.uri);
    return model ? documentSymbols(model) : null;
  });
  connection.onPrepareRename((params) => {
    const model = modelOf(params.textDocument.uri);
    if (!model) return null;
    const check = prepareRenameAt(model, params.position);
    if (!check.ok) throw new ResponseError(ErrorCodes.InvalidRequest, check.reason);
    return { range: check.range, placeholder: check.placeholder };
  });
  connection.onRenameRequest((params) => {
    const model = modelOf(params.textDocument.uri);
    if (!model) return null;
    const result = renameAt(model, params.textDocument.uri, params.position, params.newName);
    if (!result.ok) throw new ResponseError(ErrorCodes.InvalidRequest, result.reason);
    return result.edit;
  });
}
