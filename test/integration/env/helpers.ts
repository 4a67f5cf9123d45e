/**
 * Shared set-up for the environments tests: a workspace in a temp dir, an EnvService on it, and an
 * HTTP proxy in front of the real Docker Engine that records every API call, so a test can see that
 * an unchanged environment was reused without the engine being asked to build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineClient } from '../../../agent/src/env/engine';
import { EnvService } from '../../../agent/src/env/service';
import { engineEndpoint } from '../../../agent/src/runs/executors/docker-api';

export const BUSYBOX = 'mlw-test/busybox:latest';

export interface TestContext {
  after: (fn: () => void | Promise<void>) => void;
}

export const quietLogger = { info: () => {}, warn: () => {}, error: (message: string) => process.stderr.write(`${message}\n`) };

/** A unique environment name, so parallel runs never share images. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function workspace(t: TestContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-env-ws-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) writeFile(root, path, content);
  return root;
}

export function writeFile(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** Fails (never skips) when the engine or the test image is missing: these tests are about them. */
export async function requireEngine(): Promise<void> {
  const engine = new EngineClient(process.env);
  try {
    await engine.ping();
    if (!(await engine.imageId(BUSYBOX))) throw new Error(`the test image ${BUSYBOX} is missing; build it with scripts/setup/images.sh`);
  } catch (error) {
    throw new Error(`${(error as Error).message} (start the engine with scripts/setup/docker.sh)`);
  } finally {
    engine.close();
  }
}

export interface RecordingProxy {
  /** `tcp://127.0.0.1:PORT`, for DOCKER_HOST. */
  readonly dockerHost: string;
  /** `METHOD /path` of every call, in order (API version prefix removed). */
  readonly calls: string[];
}

/** A proxy to the real engine that records each call; closed after the test. */
export async function recordingProxy(t: TestContext): Promise<RecordingProxy> {
  const engine = engineEndpoint(process.env);
  const calls: string[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    calls.push(`${incoming.method} ${(incoming.url ?? '').split('?')[0]!.replace(/^\/v[0-9.]+/, '')}`);
    const forward = request(
      { ...(engine.socketPath ? { socketPath: engine.socketPath } : { host: engine.host, port: engine.port }), method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forward.on('error', (error) => outgoing.destroy(error));
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { dockerHost: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

export function envService(t: TestContext, root: string, env: NodeJS.ProcessEnv = process.env): EnvService {
  const service = new EnvService({ root, log: quietLogger, env });
  t.after(() => service.close());
  return service;
}

/** Removes every image of these environments after the test (whatever the test left). */
export function removeImagesAfter(t: TestContext, names: readonly string[]): void {
  t.after(async () => {
    const engine = new EngineClient(process.env);
    try {
      for (const name of names) {
        for (const image of await engine.listImages({ reference: [`mlw-env/${name}:*`] })) {
          for (const tag of image.RepoTags ?? []) await engine.removeImage(tag).catch(() => undefined);
        }
      }
    } finally {
      engine.close();
    }
  });
}
