/**
 * Shared set-up for the runs tests against the real Docker Engine: a git workspace in a temp dir,
 * a RunService on it, and a check that the engine and the test image are there — a test that
 * needs them fails with a message saying how to get them (scripts/setup/docker.sh, images.sh).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '../../../agent/src/context';
import { RunService } from '../../../agent/src/runs/service';
import { loadRunSettings, type RunSettings } from '../../../agent/src/runs/settings';

export const BUSYBOX = 'mlw-test/busybox:latest';
export const SKLEARN = 'mlw-test/python-sklearn:bookworm';

interface TestContext {
  after: (fn: () => void | Promise<void>) => void;
}

export const quietLogger: Logger = { info: () => {}, warn: () => {}, error: (message) => process.stderr.write(`${message}\n`) };

/** Fails (never skips) when the engine or the image is missing: these tests are about them. */
export async function requireDocker(image = BUSYBOX): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `the Docker engine is not reachable (${(error as Error).message}); start it with scripts/setup/docker.sh (or set DOCKER_HOST)`,
    );
  }
  try {
    await docker.getImage(image).inspect();
  } catch {
    throw new Error(`the test image ${image} is missing; build it with scripts/setup/images.sh`);
  }
  return docker;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' },
  });
}

/** A git repository in a temp dir with the given files committed; removed after the test. */
export function workspace(t: TestContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-runs-ws-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  git(root, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'initial');
  return root;
}

export function openService(t: TestContext, root: string, settings: Partial<RunSettings> = {}): RunService {
  const service = new RunService({
    workspaceRoot: root,
    log: quietLogger,
    settings: loadRunSettings({}, { cancelGraceMs: 2_000, ...settings }),
  });
  t.after(() => service.close());
  return service;
}

/** A DAG file whose environment `box` is the busybox test image. */
export function busyboxDag(tasks: string): string {
  return `version: 1
environments:
  box:
    docker: { image: ${BUSYBOX} }
defaults:
  environment: box
tasks:
${tasks}`;
}
