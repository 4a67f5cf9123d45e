/**
 * The Branches view end to end, in a real VS Code (code-server + Chromium, the packaged .vsix): a
 * workspace that is a git repository with several branches and an origin; the view lists its local
 * and remote branches with main marked current; "Checkout Branch…" from a row's context menu moves
 * HEAD (read back with git rev-parse), and the view's current marker and the status bar item follow
 * (through the agent's mlw/git/changed). Screenshots go to $MLW_TEST_ARTIFACTS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { EditorSessions, type EditorSession } from './support/session';
import { openViewContainer, statusItem } from './support/workbench';

const run = promisify(execFile);

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: GIT_ENV });
  return stdout.trim();
}

/** main (pushed to origin), feature/train (one commit ahead, pushed), feature/eval and release/1.0. */
async function makeRepository(workspace: string): Promise<void> {
  const origin = join(dirname(workspace), 'origin.git');
  mkdirSync(origin);
  await git(origin, 'init', '--quiet', '--bare', '--initial-branch=main');
  await git(workspace, 'init', '--quiet', '--initial-branch=main');
  await git(workspace, 'add', '.');
  await git(workspace, 'commit', '--quiet', '-m', 'Start the pipeline');
  await git(workspace, 'remote', 'add', 'origin', origin);
  await git(workspace, 'push', '--quiet', '-u', 'origin', 'main');
  await git(workspace, 'switch', '--quiet', '-c', 'feature/train');
  await git(workspace, 'commit', '--quiet', '--allow-empty', '-m', 'Train a random forest');
  await git(workspace, 'push', '--quiet', '-u', 'origin', 'feature/train');
  await git(workspace, 'switch', '--quiet', 'main');
  await git(workspace, 'branch', 'feature/eval');
  await git(workspace, 'branch', 'release/1.0');
}

void describe('Branches view in VS Code (code-server)', () => {
  const sessions = new EditorSessions();
  let session: EditorSession;
  let page: Page;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);

  before(async () => {
    session = await sessions.open({ files: { 'README.md': '# demo\n' }, prepare: makeRepository });
    page = session.page;
  });

  after(() => sessions.close());

  /**
   * The Branches tree once the agent has answered: its rows, or a failure naming the view's message.
   * Opening the container activates the extension; until its agent is ready the view says so (or,
   * before activation, that it has no data provider) — those messages are waited through.
   */
  async function branchesTree(): Promise<Locator> {
    const sidebar = await openViewContainer(page, 'MLOps');
    const settled = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
    await settled.waitFor();
    assert.match((await settled.getAttribute('aria-label')) ?? '', /^MLOps agent: ready/);
    const tree = sidebar.locator('.monaco-list[aria-label="Branches"]');
    const current = tree.locator('.monaco-list-row[aria-label*=", current branch"]');
    const message = sidebar
      .locator('.pane', { has: page.locator('.pane-header', { hasText: 'Branches' }) })
      .locator('.tree-explorer-viewlet-tree-view > .message')
      .filter({ hasText: /\S/ })
      .filter({ hasNotText: /no data provider|agent is starting/ });
    await current.or(message).first().waitFor();
    if (await message.isVisible()) assert.fail(`the Branches view shows a message: ${await message.innerText()}`);
    return tree;
  }

  const row = (tree: Locator, name: string): Locator => tree.locator(`.monaco-list-row[aria-label^="${name}, "]`);

  void test('the view lists local branches with main current, and the remote group', () =>
    step('branches-list', async () => {
      const tree = await branchesTree();
      for (const name of ['main', 'feature/train', 'feature/eval', 'release/1.0']) await row(tree, name).waitFor();
      assert.match((await row(tree, 'main').getAttribute('aria-label')) ?? '', /^main, current branch/);
      const remote = tree.locator('.monaco-list-row', { hasText: 'Remote' });
      await remote.click(); // expands the Remote group
      await row(tree, 'origin/feature/train').waitFor();
      await statusItem(page, 'MLOps branch: main').waitFor();
      await session.screenshot('vscode-branches-view.png');
    }));

  void test('Checkout Branch… from a row’s context menu moves HEAD, the current marker and the status bar', () =>
    step('branches-checkout', async () => {
      const tree = await branchesTree();
      await row(tree, 'feature/eval').click({ button: 'right' });
      const menu = page.locator('.context-view .monaco-menu');
      await menu.locator('.action-item', { hasText: 'Checkout Branch…' }).click();
      await row(tree, 'feature/eval').and(tree.locator('[aria-label*=", current branch"]')).waitFor();
      assert.equal(await git(session.workspace, 'rev-parse', '--abbrev-ref', 'HEAD'), 'feature/eval');
      assert.doesNotMatch((await row(tree, 'main').getAttribute('aria-label')) ?? '', /current branch/);
      await statusItem(page, 'MLOps branch: feature/eval').waitFor();
      await session.screenshot('vscode-branches-checkout.png');
    }));

  void test('a checkout made outside the editor reaches the view through the agent’s watch on .git', () =>
    step('branches-external', async () => {
      const tree = await branchesTree();
      await git(session.workspace, 'switch', '--quiet', 'release/1.0');
      await row(tree, 'release/1.0').and(tree.locator('[aria-label*=", current branch"]')).waitFor();
      await statusItem(page, 'MLOps branch: release/1.0').waitFor();
    }));
});
