/**
 * The Branches view end to end, in a real VS Code (code-server + Chromium, the packaged .vsix): a
 * workspace that is a git repository with several branches and an origin; the view lists its local
 * and remote branches with main marked current; "Checkout Branch…" from a row's context menu moves
 * HEAD (read back with git rev-parse), and the view's current marker and the status bar item follow
 * (through the agent's mlw/git/changed). Screenshots go to $MLW_TEST_ARTIFACTS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { EditorSessions, type EditorSession } from './support/session';
import { fromContextMenu, openViewContainer, statusItem } from './support/workbench';

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

/**
 * main (pushed to origin, then one commit ahead changing README.md), feature/train (one commit,
 * pushed), feature/eval and release/1.0 (at the first commit), feature/conflict (README.md changed
 * the other way, never merged or pushed). params.yaml is tracked and no branch changes it.
 */
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
  await git(workspace, 'switch', '--quiet', '-c', 'feature/conflict');
  writeFileSync(join(workspace, 'README.md'), '# conflict\n');
  await git(workspace, 'commit', '--quiet', '-am', 'Rename the project');
  await git(workspace, 'switch', '--quiet', 'main');
  writeFileSync(join(workspace, 'README.md'), '# main\n');
  await git(workspace, 'commit', '--quiet', '-am', 'Describe the project');
}

void describe('Branches view in VS Code (code-server)', () => {
  const sessions = new EditorSessions();
  let session: EditorSession;
  let page: Page;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);

  before(async () => {
    session = await sessions.open({
      files: { 'README.md': '# demo\n', 'params.yaml': 'lr: 0.1\n' },
      prepare: makeRepository,
    });
    page = session.page;
  });

  after(() => sessions.close());

  /**
   * The Branches tree once the agent has answered: its rows, or a failure naming the view's message.
   * Opening the container activates the extension; until its agent is ready the view says so (or,
   * before activation, that it has no data provider) — those messages are waited through.
   */
  async function branchesTree(): Promise<Locator> {
    const sidebar = await openViewContainer(page, 'MLOps', 'Branches');
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

  const currentRow = (tree: Locator, name: string): Locator =>
    row(tree, name).and(tree.locator('[aria-label*=", current branch"]'));


  /** Picks a branch in the quick pick the status bar item opens (the row whose label is exactly `name`). */
  async function pickFromStatusBar(current: string, name: string): Promise<void> {
    await statusItem(page, `MLOps branch: ${current}`).click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(name);
    const label = page.locator('.label-name', { hasText: new RegExp(`^\\s*${name.replace('/', '\\/')}\\s*$`) });
    await page.locator('.quick-input-list .monaco-list-row', { has: label }).click();
  }

  /** Waits for `expected`, or fails with the text of an error notification that came instead. */
  async function shown(expected: Locator): Promise<void> {
    const error = page.locator('.notification-toast:has(.codicon-error)');
    await expected.or(error).first().waitFor();
    if (!(await expected.first().isVisible()))
      assert.fail(`an error was shown instead: ${await error.first().innerText()}`);
  }

  /** Clicks a button of the modal dialog that says `text`. */
  async function answerDialog(text: RegExp, button: string): Promise<void> {
    const dialog = page.locator('.monaco-dialog-box', { hasText: text });
    await shown(dialog);
    await dialog.getByRole('button', { name: button, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  const toast = (text: RegExp): Locator => page.locator('.notification-toast', { hasText: text });

  async function refExists(ref: string): Promise<boolean> {
    return git(session.workspace, 'rev-parse', '--quiet', '--verify', ref).then(
      () => true,
      () => false,
    );
  }

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
      await fromContextMenu(page, row(tree, 'feature/eval'), 'Checkout Branch…');
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

  void test('a dirty tree: checkout from the status bar quick pick offers Stash and Continue, switches, keeps the change', () =>
    step('branches-stash', async () => {
      const tree = await branchesTree();
      const params = join(session.workspace, 'params.yaml');
      writeFileSync(params, 'lr: 0.5\n');
      await pickFromStatusBar('release/1.0', 'main');
      await shown(page.locator('.monaco-dialog-box', { hasText: /uncommitted changes/ }));
      await session.screenshot('vscode-branches-dirty.png');
      await answerDialog(/uncommitted changes/, 'Stash and Continue');
      await currentRow(tree, 'main').waitFor();
      assert.equal(await git(session.workspace, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
      assert.equal(readFileSync(params, 'utf8'), 'lr: 0.5\n');
      await git(session.workspace, 'checkout', '--', 'params.yaml');
    }));

  void test('a merge that conflicts lists the files and Abort Merge puts main back', () =>
    step('branches-merge-conflict', async () => {
      const tree = await branchesTree();
      const before = await git(session.workspace, 'rev-parse', 'HEAD');
      await fromContextMenu(page, row(tree, 'feature/conflict'), 'Merge Branch into Current…');
      const conflict = toast(/stopped on conflicts.*README\.md/);
      await shown(conflict);
      assert.ok(await refExists('MERGE_HEAD'), 'the merge is left in progress to resolve or abort');
      await conflict.getByRole('button', { name: 'Abort Merge' }).click();
      await toast(/was aborted/).waitFor();
      assert.equal(await refExists('MERGE_HEAD'), false);
      assert.equal(await git(session.workspace, 'rev-parse', 'HEAD'), before);
      assert.equal(readFileSync(join(session.workspace, 'README.md'), 'utf8'), '# main\n');
    }));

  void test('deleting an unmerged branch takes a confirmation, then a second one to force it', () =>
    step('branches-delete', async () => {
      const tree = await branchesTree();
      await fromContextMenu(page, row(tree, 'feature/conflict'), 'Delete Branch…');
      await answerDialog(/Delete the branch feature\/conflict\?/, 'Delete');
      await shown(page.locator('.monaco-dialog-box', { hasText: /not merged/ }));
      assert.ok(await refExists('refs/heads/feature/conflict'), 'nothing is deleted before the second confirmation');
      await answerDialog(/not merged/, 'Delete Anyway');
      await row(tree, 'feature/conflict').waitFor({ state: 'detached' });
      assert.equal(await refExists('refs/heads/feature/conflict'), false);
    }));
});
