/**
 * The connection to the agent: starts it through vscode-languageclient, tracks its state, restarts
 * it, and offers typed requests and notification subscriptions checked against schemas/protocol.
 *
 * Two lifetimes (STYLE.md "Lifetimes are explicit"): subscriptions made through `onNotification`
 * and `onDidChangeState` live as long as the extension and survive restarts; everything tied to one
 * agent process (the LanguageClient, its handlers, its state listener) lives in that connection's
 * own list and is disposed when it stops.
 */
import * as vscode from 'vscode';
import { LanguageClient, RevealOutputChannelOn, State, type LanguageClientOptions } from 'vscode-languageclient/node';
import { z } from 'zod';
import { agentReady } from '../../../schemas/protocol';
import type { NotificationType, RequestType } from '../../../schemas/rpc';
import { agentLaunch } from './launch';
import { type AgentState, describeAgentState } from './state';

export const DAG_LANGUAGE_ID = 'mlw-dag';

/** Thrown by `request` while the agent is starting, stopped or failed; callers show it, never crash. */
export class AgentNotReadyError extends Error {
  constructor(state: AgentState) {
    super(`The MLOps agent is not ready (${describeAgentState(state)}).`);
    this.name = 'AgentNotReadyError';
  }
}

interface Subscription {
  readonly notification: NotificationType<z.ZodType>;
  readonly emitter: vscode.EventEmitter<unknown>;
}

/** One agent process and everything that must go when it goes. */
class Connection {
  readonly disposables: vscode.Disposable[] = [];
  stopping = false;
  constructor(readonly client: LanguageClient) {}

  async stop(): Promise<void> {
    this.stopping = true;
    try {
      // dispose() stops the client (waiting for a start in progress) and then the process.
      await this.client.dispose();
    } finally {
      for (const disposable of this.disposables.splice(0)) disposable.dispose();
    }
  }
}

export class AgentClient implements vscode.Disposable {
  private connection: Connection | undefined;
  private currentState: AgentState = { kind: 'stopped' };
  private readonly stateEmitter = new vscode.EventEmitter<AgentState>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** Start, stop and restart run one after another, never interleaved. */
  private lifecycle: Promise<void> = Promise.resolve();

  readonly onDidChangeState = this.stateEmitter.event;

  constructor(
    private readonly extensionRoot: string,
    private readonly output: vscode.OutputChannel,
  ) {}

  get state(): AgentState {
    return this.currentState;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.startConnection());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.stopConnection());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      this.log('restarting the agent');
      await this.stopConnection();
      await this.startConnection();
    });
  }

  /**
   * Sends a declared request; the result is checked against the declaration's zod schema. A
   * `token` cancelled (a progress notification's Cancel) sends $/cancelRequest to the agent.
   */
  async request<P extends z.ZodType, R extends z.ZodType>(
    declaration: RequestType<P, R>,
    params: z.input<P>,
    token?: vscode.CancellationToken,
  ): Promise<z.output<R>> {
    const connection = this.connection;
    if (connection === undefined || this.currentState.kind !== 'ready') throw new AgentNotReadyError(this.currentState);
    const raw: unknown = await connection.client.sendRequest(declaration.method, params, token);
    const parsed = declaration.result.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`The agent's answer to ${declaration.method} is malformed:\n${z.prettifyError(parsed.error)}`);
    }
    return parsed.data;
  }

  /** Subscribes for the extension's lifetime; params are checked against the declaration. */
  onNotification<P extends z.ZodType>(
    notification: NotificationType<P>,
    listener: (params: z.output<P>) => void,
  ): vscode.Disposable {
    let subscription = this.subscriptions.get(notification.method);
    if (subscription === undefined) {
      subscription = { notification, emitter: new vscode.EventEmitter<unknown>() };
      this.subscriptions.set(notification.method, subscription);
      if (this.connection !== undefined) this.forwardNotification(this.connection, subscription);
    }
    return subscription.emitter.event((params) => listener(params as z.output<P>));
  }

  dispose(): void {
    void this.stop().finally(() => {
      this.stateEmitter.dispose();
      for (const subscription of this.subscriptions.values()) subscription.emitter.dispose();
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(step, step);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private async startConnection(): Promise<void> {
    if (this.connection !== undefined) return;
    const client = this.createLanguageClient();
    const connection = new Connection(client);
    this.connection = connection;
    this.setState({ kind: 'starting' });
    connection.disposables.push(
      client.onDidChangeState(({ newState }) => this.onClientState(connection, newState)),
      client.onNotification(agentReady.method, (raw: unknown) => this.onReady(raw)),
    );
    for (const subscription of this.subscriptions.values()) this.forwardNotification(connection, subscription);
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`the agent failed to start: ${message}`);
      if (this.connection === connection) this.setState({ kind: 'error', message });
    }
  }

  private async stopConnection(): Promise<void> {
    const connection = this.connection;
    if (connection === undefined) return;
    this.connection = undefined;
    try {
      await connection.stop();
    } catch (error) {
      this.log(`stopping the agent: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.setState({ kind: 'stopped' });
  }

  private createLanguageClient(): LanguageClient {
    const settings = vscode.workspace.getConfiguration('mlw.agent');
    const launch = agentLaunch({
      extensionRoot: this.extensionRoot,
      configuredNodePath: settings.get<string>('nodePath'),
      editorRuntime: process.execPath,
      baseEnv: process.env,
    });
    this.log(`starting the agent: ${launch.command} ${launch.args.join(' ')}`);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: DAG_LANGUAGE_ID },
        { scheme: 'untitled', language: DAG_LANGUAGE_ID },
      ],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: { workspaceTrusted: vscode.workspace.isTrusted },
    };
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? this.extensionRoot;
    return new LanguageClient(
      'mlw',
      'MLOps Workbench agent',
      { command: launch.command, args: [...launch.args], options: { env: launch.env, cwd } },
      clientOptions,
    );
  }

  private forwardNotification(connection: Connection, subscription: Subscription): void {
    const { notification, emitter } = subscription;
    connection.disposables.push(
      connection.client.onNotification(notification.method, (raw: unknown) => {
        const parsed = notification.params.safeParse(raw);
        if (parsed.success) emitter.fire(parsed.data);
        else this.log(`ignored a malformed ${notification.method}:\n${z.prettifyError(parsed.error)}`);
      }),
    );
  }

  private onReady(raw: unknown): void {
    const parsed = agentReady.params.safeParse(raw);
    if (!parsed.success) {
      this.log(`ignored a malformed ${agentReady.method}:\n${z.prettifyError(parsed.error)}`);
      return;
    }
    this.log(`agent ${parsed.data.version} ready (pid ${parsed.data.pid})`);
    this.setState({ kind: 'ready', version: parsed.data.version, pid: parsed.data.pid });
  }

  private onClientState(connection: Connection, state: State): void {
    if (this.connection !== connection) return;
    // Running means initialized; we wait for mlw/agent/ready before calling it ready.
    if (state === State.Starting) this.setState({ kind: 'starting' });
    else if (state === State.Stopped && !connection.stopping) {
      this.setState({ kind: 'error', message: 'the agent stopped unexpectedly (see the Output channel)' });
    }
  }

  private setState(state: AgentState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }

  private log(message: string): void {
    this.output.appendLine(`[${new Date().toISOString()}] [extension] ${message}`);
  }
}
