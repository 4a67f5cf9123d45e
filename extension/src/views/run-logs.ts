/**
 * A run's log as a read-only virtual document (`mlw-run-log:/<id>/<name>.log`) that follows the run:
 * the whole log is asked for once, then each `mlw/runs/log` notification for an open log asks for
 * what came after the last line shown (so nothing is lost between the two) and the document is told
 * it changed. Lines the agent itself wrote (`system`) are marked `[mlw]`, stderr `[err]`.
 */
import * as vscode from 'vscode';
import { runLog, runLogs, type LogEntry } from '../../../schemas/protocol/runs';
import type { AgentClient } from '../agent/client';

export const RUN_LOG_SCHEME = 'mlw-run-log';

export function runLogUri(id: string, name: string): vscode.Uri {
  const safeName = name.replace(/[^\w.@-]+/g, '_') || 'run';
  return vscode.Uri.from({ scheme: RUN_LOG_SCHEME, path: `/${id}/${safeName}.log` });
}

function idOf(uri: vscode.Uri): string {
  return uri.path.split('/')[1] ?? '';
}

export function logLine(entry: LogEntry): string {
  const prefix = entry.stream === 'system' ? '[mlw] ' : entry.stream === 'stderr' ? '[err] ' : '';
  return `${prefix}${entry.text}\n`;
}

interface LogBuffer {
  text: string;
  lastSeq: number;
  status: string;
  /** One fetch at a time; a notification during one asks for another after it. */
  fetching: Promise<void> | undefined;
  again: boolean;
}

export class RunLogDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly buffers = new Map<string, LogBuffer>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly agent: AgentClient) {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(RUN_LOG_SCHEME, this),
      agent.onNotification(runLog, ({ id }) => this.follow(id)),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (document.uri.scheme === RUN_LOG_SCHEME) this.buffers.delete(document.uri.toString());
      }),
      this.changed,
    ];
  }

  async open(id: string, name: string): Promise<void> {
    const document = await vscode.workspace.openTextDocument(runLogUri(id, name));
    await vscode.window.showTextDocument(document, { preview: false });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    let buffer = this.buffers.get(key);
    if (buffer === undefined) {
      buffer = { text: '', lastSeq: 0, status: '', fetching: undefined, again: false };
      this.buffers.set(key, buffer);
      await this.fetch(uri, buffer);
    }
    return buffer.text;
  }

  private follow(id: string): void {
    for (const [key, buffer] of this.buffers) {
      const uri = vscode.Uri.parse(key);
      if (idOf(uri) !== id) continue;
      if (buffer.fetching) {
        buffer.again = true;
        continue;
      }
      void this.fetch(uri, buffer).then(() => this.changed.fire(uri));
    }
  }

  private fetch(uri: vscode.Uri, buffer: LogBuffer): Promise<void> {
    const run = async (): Promise<void> => {
      do {
        buffer.again = false;
        const { entries, status } = await this.agent.request(runLogs, {
          id: idOf(uri),
          ...(buffer.lastSeq > 0 ? { afterSeq: buffer.lastSeq } : {}),
        });
        for (const entry of entries) {
          if (entry.seq <= buffer.lastSeq) continue;
          buffer.text += logLine(entry);
          buffer.lastSeq = entry.seq;
        }
        buffer.status = status;
      } while (buffer.again);
    };
    buffer.fetching = run()
      .catch((error: unknown) => {
        buffer.text += `[mlw] could not read the log: ${error instanceof Error ? error.message : String(error)}\n`;
      })
      .finally(() => {
        buffer.fetching = undefined;
      });
    return buffer.fetching;
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    this.buffers.clear();
  }
}
