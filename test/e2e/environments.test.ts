/**
 * The Environments view end to end, in a real VS Code (code-server + Chromium, the packaged .vsix)
 * against the real Docker Engine: a workspace with a Dockerfile shows it under "Docker images" as
 * missing; "Build Environment" from its context menu streams the build's log into the
 * "MLOps: Environments" output channel and the row turns ready (through mlw/env/changed); the image
 * exists on the engine. Screenshots go to $MLW_TEST_ARTIFACTS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { EditorSessions, type EditorSession } from './support/session';
import { fromContextMenu, openViewContainer, statusItem } from './support/workbench';

const run = promisify(execFile);
const NAME = `e2eenv${randomBytes(3).toString('hex')}`;
const BUILD_LINE = `hello-from-the-${NAME}-build`;

async function imagesOf(name: string): Promise<string[]> {
  const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', `mlw-env/${name}`]);
  return stdout.split('\n').filter((line) => line !== '');
}

void describe('Environments view in VS Code (code-server)', () => {
  const sessions = new EditorSessions();
  let session: EditorSession;
  let page: Page;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);

  before(async () => {
    await run('docker', ['image', 'inspect', 'mlw-test/busybox:latest']).catch(() => {
      throw new Error(
        'the Docker engine or mlw-test/busybox:latest is missing: run scripts/setup/docker.sh and scripts/setup/images.sh',
      );
    });
    session = await sessions.open({
      files: { [`${NAME}/Dockerfile`]: `FROM mlw-test/busybox:latest\nRUN echo ${BUILD_LINE}\n` },
    });
    page = session.page;
  });

  after(async () => {
    await sessions.close();
    for (const image of await imagesOf(NAME)) await run('docker', ['rmi', image]).catch(() => undefined);
  });

  /** The Environments tree once the agent has answered (its pane expanded if it was collapsed). */
  async function environmentsTree(): Promise<Locator> {
    const sidebar = await openViewContainer(page, 'MLOps', 'Environments');
    const settled = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
    await settled.waitFor();
    assert.match((await settled.getAttribute('aria-label')) ?? '', /^MLOps agent: ready/);
    const tree = sidebar.locator('.monaco-list[aria-label="Environments"]');
    await tree.locator('.monaco-list-row', { hasText: 'Docker images' }).waitFor();
    return tree;
  }

  const row = (tree: Locator, state: string): Locator =>
    tree.locator(`.monaco-list-row[aria-label="${NAME}, docker environment, ${state}"]`);

  void test('a Dockerfile is listed as missing; Build streams its log and the row turns ready', () =>
    step('environments-build', async () => {
      const tree = await environmentsTree();
      await row(tree, 'missing').waitFor();
      await session.screenshot('vscode-environments-missing.png');

      await row(tree, 'missing').click({ button: 'right' });
      const items = page.locator('.context-view .monaco-menu .action-item');
      await items.first().waitFor();
      const labels = await items.allInnerTexts();
      assert.ok(
        labels.some((label) => label.includes('Build Environment')),
        `the context menu offers Build: ${labels.join(' | ')}`,
      );
      assert.ok(!labels.some((label) => label.includes('Rebuild Environment')), 'no Rebuild before a build');
      await page.keyboard.press('Escape');
      await fromContextMenu(page, row(tree, 'missing'), 'Build Environment');

      const output = page.locator('.part.panel .view-lines', { hasText: BUILD_LINE });
      const failure = page.locator('.notification-toast:has(.codicon-error)');
      await output.or(failure).first().waitFor();
      if (await failure.first().isVisible()) assert.fail(`the build failed: ${await failure.first().innerText()}`);
      await row(tree, 'ready').waitFor();
      assert.equal((await imagesOf(NAME)).length, 1);
      await session.screenshot('vscode-environments-built.png');
    }));
});
