/**
 * The Docker Engine API calls the environments service makes often (ping, inspect, list, tag,
 * remove), over node:http: the up-to-date decision and `mlw env list` must not pay for loading
 * dockerode (~250 ms, see agent/src/runs/executors/docker-api.ts). Builds go through dockerode
 * (docker.ts), which packs the context.
 */
import { Agent, request, type RequestOptions } from 'node:http';
import { engineEndpoint } from '../runs/executors/docker-api';
import { EngineUnreachableError, EnvError } from './errors';

export interface ImageSummary {
  readonly Id: string;
  readonly RepoTags: readonly string[] | null;
  readonly Created: number;
  readonly Size: number;
  readonly Labels: Readonly<Record<string, string>> | null;
}

export interface ImageInspect {
  readonly Id: string;
  readonly RepoTags: readonly string[];
  readonly Created: string;
  readonly Size: number;
  readonly Config: { readonly Labels: Readonly<Record<string, string>> | null } | null;
}

export class EngineError extends EnvError {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/** Where the engine is, for messages: `unix:///var/run/docker.sock` or `DOCKER_HOST=…`. */
export function describeEngine(env: NodeJS.ProcessEnv): string {
  try {
    const where = engineEndpoint(env).description;
    return env.DOCKER_HOST ? `${where} (DOCKER_HOST)` : `${where} (the default socket; set DOCKER_HOST for another)`;
  } catch (error) {
    return (error as Error).message;
  }
}

export function unreachableMessage(env: NodeJS.ProcessEnv, cause: string): string {
  const start = env.DOCKER_HOST
    ? 'start the engine that DOCKER_HOST names, or unset DOCKER_HOST to use the default socket'
    : 'start it (`sudo systemctl start docker`, or `dockerd &`; on macOS or Windows, Docker Desktop)';
  return `the Docker engine is not reachable at ${describeEngine(env)}: ${cause}; ${start}`;
}

export class EngineClient {
  private readonly agent = new Agent({ keepAlive: true });
  private options: { socketPath?: string; host?: string; port?: number } | undefined;

  constructor(readonly env: NodeJS.ProcessEnv = process.env) {}

  async ping(): Promise<void> {
    await this.call('GET', '/_ping');
  }

  /** The image's id, or undefined when no image has that reference. */
  async imageId(reference: string): Promise<string | undefined> {
    return (await this.inspectImage(reference))?.Id;
  }

  async inspectImage(reference: string): Promise<ImageInspect | undefined> {
    try {
      return JSON.parse(await this.call('GET', `/images/${encodeURIComponent(reference)}/json`)) as ImageInspect;
    } catch (error) {
      if (error instanceof EngineError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /** Images, optionally filtered (`{ reference: ['mlw-env/*'], label: ['k=v'] }`). */
  async listImages(filters: Readonly<Record<string, readonly string[]>> = {}): Promise<ImageSummary[]> {
    const query = Object.keys(filters).length > 0 ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : '';
    return JSON.parse(await this.call('GET', `/images/json${query}`)) as ImageSummary[];
  }

  async tagImage(image: string, repository: string, tag: string): Promise<void> {
    await this.call('POST', `/images/${encodeURIComponent(image)}/tag?repo=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`);
  }

  /** Removes a tag (the image goes when it was its last); refused while a container uses it. */
  async removeImage(reference: string): Promise<void> {
    await this.call('DELETE', `/images/${encodeURIComponent(reference)}?noprune=0`);
  }

  close(): void {
    this.agent.destroy();
  }

  private requestOptions(method: string, path: string): RequestOptions {
    if (!this.options) {
      try {
        const endpoint = engineEndpoint(this.env);
        this.options = endpoint.socketPath ? { socketPath: endpoint.socketPath } : { host: endpoint.host!, port: endpoint.port! };
      } catch (error) {
        throw new EngineUnreachableError((error as Error).message);
      }
    }
    return { ...this.options, method, path, agent: this.agent };
  }

  private call(method: string, path: string): Promise<string> {
    const options = this.requestOptions(method, path);
    return new Promise((resolve, reject) => {
      const outgoing = request(options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 500;
          if (status < 300) resolve(text);
          else reject(new EngineError(`docker ${method} ${path.split('?')[0]}: ${messageOf(text)} (HTTP ${status})`, status));
        });
      });
      outgoing.on('error', (error) => reject(new EngineUnreachableError(unreachableMessage(this.env, error.message))));
      outgoing.end();
    });
  }
}

function messageOf(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.trim();
  } catch {
    return body.trim();
  }
}
