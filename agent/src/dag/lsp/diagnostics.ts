/**
 * Glue: validates open DAG documents as they open and change and publishes their diagnostics;
 * clears them on close; announces DAG file changes (mlw/dag/changed) from open documents and from
 * the client's watched-file events.
 *
 * Edits arrive faster than a large file validates, so validation is coalesced per document: a
 * change marks the document dirty and one validation, run on the next turn of the event loop (no
 * debounce: it would count against every edit), checks its latest text. Each open document keeps an
 * IncrementalValidator, so an edit inside one task re-parses only that task (dag/incremental.ts).
 * A validation bug never escapes: it becomes one diagnostic and a log line.
 */
import {
  DiagnosticSeverity,
  DiagnosticTag,
  FileChangeType,
  type Connection,
  type Diagnostic,
  type TextDocuments,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { dirname } from 'node:path';
import { URI } from 'vscode-uri';
import { pipelinesChanged } from '../../../../schemas/protocol/dag';
import type { AgentContext } from '../../context';
import { isDagFileName } from '../discover';
import { IncrementalValidator } from '../incremental';
import { fileSystemProbe } from '../probe';
import type { DagDiagnostic, Severity } from '../types';
import { dagWorkspaceFor } from '../workspace';

export const DIAGNOSTIC_SOURCE = 'mlw';

export function attachDagDiagnostics(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  context: () => AgentContext,
): void {
  const pending = new Set<string>();
  const validators = new Map<string, IncrementalValidator>();

  const validateSoon = (uri: string): void => {
    if (pending.has(uri)) return;
    pending.add(uri);
    setImmediate(() => {
      pending.delete(uri);
      const document = documents.get(uri);
      if (!document) return;
      let validator = validators.get(uri);
      if (!validator) {
        const folder = dirname(URI.parse(uri).fsPath);
        validator = new IncrementalValidator({ probe: () => fileSystemProbe(folder) });
        validators.set(uri, validator);
      }
      publish(connection, document, validator, context());
    });
  };

  documents.onDidChangeContent(({ document }) => {
    if (!isDagDocument(document)) return;
    const path = URI.parse(document.uri).fsPath;
    dagWorkspaceFor(context()).setOpen(path, document.getText(), document.version);
    validateSoon(document.uri);
    announce(context(), [path]);
  });

  documents.onDidClose(({ document }) => {
    if (!isDagDocument(document)) return;
    const path = URI.parse(document.uri).fsPath;
    validators.delete(document.uri);
    dagWorkspaceFor(context()).close(path);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
    announce(context(), [path]);
  });

  connection.onDidChangeWatchedFiles(({ changes }) => {
    const paths = changes.map((change) => URI.parse(change.uri).fsPath);
    const dagPaths = paths.filter((path) => isDagFileName(basenameOf(path)));
    if (dagPaths.length > 0) announce(context(), dagPaths);
    // A created or deleted file can settle or raise a missing-input warning: re-check what is open.
    if (changes.some((change) => change.type !== FileChangeType.Changed) || dagPaths.length > 0) {
      for (const document of documents.all()) if (isDagDocument(document)) validateSoon(document.uri);
    }
  });
}

function publish(connection: Connection, document: TextDocument, validator: IncrementalValidator, context: AgentContext): void {
  const path = URI.parse(document.uri).fsPath;
  let diagnostics: Diagnostic[];
  try {
    const validation = validator.validate(document.getText());
    diagnostics = validation.diagnostics.map((diagnostic) => toLspDiagnostic(diagnostic, document.uri));
  } catch (error) {
    // validateDag already turns its own failures into a diagnostic; this is the last line of defence.
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    context.log.error(`dag: validating ${path} failed: ${message}`);
    diagnostics = [
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Error,
        source: DIAGNOSTIC_SOURCE,
        code: 'internal-error',
        message: `internal error while validating (please report it): ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
  void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
}

const SEVERITIES: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toLspDiagnostic(diagnostic: DagDiagnostic, uri: string): Diagnostic {
  return {
    range: diagnostic.range,
    severity: SEVERITIES[diagnostic.severity],
    source: DIAGNOSTIC_SOURCE,
    code: diagnostic.code,
    message: diagnostic.message,
    ...(diagnostic.code === 'unused-param' ? { tags: [DiagnosticTag.Unnecessary] } : {}),
    ...(diagnostic.related
      ? { relatedInformation: diagnostic.related.map((related) => ({ location: { uri, range: related.range }, message: related.message })) }
      : {}),
  };
}

function isDagDocument(document: TextDocument): boolean {
  return document.languageId === 'mlw-dag' || isDagFileName(basenameOf(URI.parse(document.uri).path));
}

function basenameOf(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function announce(context: AgentContext, paths: string[]): void {
  try {
    context.notify?.(pipelinesChanged, { paths });
  } catch (error) {
    context.log.warn(`dag: could not announce changed pipelines: ${(error as Error).message}`);
  }
}
