/** What the end-to-end tests that run containers share: git in a workspace, the engine check, webviews. */
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import type { FrameLocator, Page } from 'playwright-core';

export const BUSYBOX_IMAGE = 'mlw-test/busybox:latest';

export function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    },
  });
}

/** Fails (never skips) when the engine or the image is missing: these tests are about them. */
export async function requireDocker(image = BUSYBOX_IMAGE): Promise<void> {
  const docker = new Docker();
  await docker.ping().catch((error: Error) => {
    throw new Error(`the Docker engine is not reachable (${error.message}); run scripts/setup/docker.sh`);
  });
  await docker
    .getImage(image)
    .inspect()
    .catch(() => {
      throw new Error(`the test image ${image} is missing; run scripts/setup/images.sh`);
    });
}

/** The page inside the one open VS Code webview (the outer iframe hosts it in #active-frame). */
export function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
}
