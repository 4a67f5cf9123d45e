/**
 * The few Docker Engine API calls a run needs, over node:http to the engine's socket.
 *
 * Why not dockerode here: loading dockerode costs more than half of what a whole `docker run`
 * takes on our reference machine (it loads gRPC, protobuf and ssh2 at require time), and the run
 * path is measured against `docker run` (bench/runs-startup.ts). dockerode stays the client for
 * image builds (environment.ts), which are rare and slow anyway.
 *
 * Where the engine is: DOCKER_HOST (`unix://…`, `npipe://…`, `tcp://…` without TLS), else the
 * platform's default socket (Docker Desktop's per-user socket on macOS as a fallback).
 */
import { existsSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type RequestOptions } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';

export class DockerApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
    this.name = 'DockerApiError';
  }
}

interface Endpoint {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
  /** For messages: where the engine was looked for. */
  readonly description: string;
}

export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): Endpoint {
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length), description: dockerHost };
    if (dockerHost.startsWith('npipe://')) {
      return { socketPath: dockerHost.slice('npipe://'.length).replace(/\//g, '\\'), description: dockerHost };
    }
    if (dockerHost.startsWith('tcp://')) {
      if (env.DOCKER_TLS_VERIFY) {
        throw new DockerApiError(`DOCKER_HOST ${dockerHost} needs TLS, which mlw's run client does not speak: use a unix socket or an ssh tunnel`, undefined);
      }
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      return { host: url.hostname, port: Number(url.port || 2375), description: dockerHost };
    }
    throw new DockerApiError(`DOCKER_HOST ${dockerHost}: mlw understands unix://, npipe:// and tcp:// addresses`, undefined);
  }
  if (process.platform === 'win32') return { socketPath: '\\\\.\\pipe\\docker_engine', description: 'npipe:////./pipe/docker_engine' };
  const desktop = join(homedir(), '.docker', 'run', 'docker.sock');
  if (!existsSync('/var/run/docker.sock') && existsSync(desktop)) return { socketPath: desktop, description: `unix://${desktop}` };
  return { socketPath: '/var/run/docker.sock', description: 'unix:///var/run/docker.sock' };
}

export interface ContainerState {
  readonly Running: boolean;
  readonly ExitCode: number;
  readonly OOMKilled: boolean;
}

export interface ContainerInfo {
  readonly Id: string;
  /** RFC 3339. */
  readonly Created: string;
  readonly State: ContainerState;
  /** Memory: the limit in bytes, 0 when none. */
  readonly HostConfig: { readonly Memory?: number };
}

export interface ContainerSummary {
  readonly Id: string;
  readonly State: string;
  readonly Labels: Record<string, string>;
}

export class DockerApi {
  private readonly agent = new Agent({ keepAlive: true });
  private endpointCache: Endpoint | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get where(): string {
    return this.endpoint().description;
  }

  async ping(): Promise<void> {
    await this.call('GET', '/_ping', undefined, 'text');
  }

  /** The image's id, or undefined when it is not present. */
  async imageId(image: string): Promise<string | undefined> {
    try {
      const info = (await this.call('GET', `/images/${encodeURIComponent(image)}/json`)) as { Id: string };
      return info.Id;
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async createContainer(body: Record<string, unknown>): Promise<string> {
    return ((await this.call('POST', '/containers/create', body)) as { Id: string }).Id;
  }

  /**
   * The container's output stream (multiplexed stdout/stderr frames), attached before it starts so
   * nothing is missed. No `logs=1`: replaying the log as well gave lines twice under load.
   */
  attach(id: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const outgoing = request({
        ...this.requestOptions('POST', `/containers/${id}/attach?stream=1&stdout=1&stderr=1&logs=0`),
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
        agent: false,
      });
      outgoing.on('upgrade', (_response, socket) => resolve(socket));
      outgoing.on('response', (response: IncomingMessage) => {
        void readBody(response).then((text) => reject(apiError('attach', response.statusCode, text)));
      });
      outgoing.on('error', (error) => reject(this.unreachable(error)));
      outgoing.end();
    });
  }

  async start(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/start`, undefined, 'text');
  }

  async wait(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/wait?condition=not-running`);
  }

  async inspect(id: string): Promise<ContainerInfo> {
    return (await this.call('GET', `/containers/${id}/json`)) as ContainerInfo;
  }

  /** Whether the engine has logged an `oom` event for the container since `sinceSeconds`. */
  async oomEventLogged(id: string, sinceSeconds: number): Promise<boolean> {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], container: [id], event: ['oom'] }));
    const until = Math.ceil(Date.now() / 1000) + 1;
    const text = (await this.call('GET', `/events?since=${sinceSeconds}&until=${until}&filters=${filters}`, undefined, 'text')) as string;
    return text.trim() !== '';
  }

  async stop(id: string, seconds: number): Promise<void> {
    await this.call('POST', `/containers/${id}/stop?t=${seconds}`, undefined, 'text');
  }

  async remove(id: string): Promise<void> {
    await this.call('DELETE', `/containers/${id}?force=1&v=1`, undefined, 'text');
  }

  async listContainers(labels: readonly string[]): Promise<ContainerSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return (await this.call('GET', `/containers/json?all=1&filters=${filters}`)) as ContainerSummary[];
  }

  /** The container's log since `sinceSeconds`, following it until the container stops. */
  logs(id: string, sinceSeconds: number): Promise<Readable> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        this.requestOptions('GET', `/containers/${id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=${sinceSeconds}`),
        (response) => {
          if ((response.statusCode ?? 500) >= 300) {
            void readBody(response).then((text) => reject(apiError('logs', response.statusCode, text)));
          } else {
            resolve(response);
          }
        },
      );
      outgoing.on('error', (error) => reject(this.unreachable(error)));
      outgoing.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private endpoint(): Endpoint {
    this.endpointCache ??= engineEndpoint(this.env);
    return this.endpointCache;
  }

  private requestOptions(method: string, path: string): RequestOptions {
    const endpoint = this.endpoint();
    return endpoint.socketPath
      ? { socketPath: endpoint.socketPath, method, path, agent: this.agent }
      : { host: endpoint.host, port: endpoint.port, method, path, agent: this.agent };
  }

  private call(method: string, path: string, body?: unknown, expect: 'json' | 'text' = 'json'): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const outgoing = request(
        {
          ...this.requestOptions(method, path),
          headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (response) => {
          void readBody(response).then((text) => {
            const status = response.statusCode ?? 500;
            if (status >= 300) reject(apiError(`${method} ${path.split('?')[0]}`, status, text));
            else if (expect === 'text' || text === '') resolve(text);
            else resolve(JSON.parse(text));
          }, reject);
        },
      );
      outgoing.on('error', (error) => reject(this.unreachable(error)));
      outgoing.end(payload);
    });
  }

  private unreachable(error: Error): DockerApiError {
    return new DockerApiError(`the Docker engine is not reachable at ${this.where} (${error.message})`, undefined);
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function apiError(what: string, status: number | undefined, text: string): DockerApiError {
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // a plain-text body
  }
  return new DockerApiError(`docker ${what}: ${message} (HTTP ${status})`, status);
}

/**
 * Splits the engine's multiplexed stream (8-byte headers: stream type, then a big-endian length)
 * into stdout and stderr chunks.
 */
export function demultiplex(stream: Readable, onChunk: (kind: 'stdout' | 'stderr', chunk: Buffer) => void): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  return new Promise((resolve) => {
    stream.on('data', (data: Buffer) => {
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        const kind = pending[0] === 2 ? 'stderr' : 'stdout';
        onChunk(kind, pending.subarray(8, 8 + size));
        pending = pending.subarray(8 + size);
      }
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
}
