/**
 * End to end, in a real VS Code (code-server + Chromium): a git workspace whose folder `data` is a
 * dataset tracked with the built `mlw data add` and committed in two versions. The Datasets view
 * lists it clean with its file count; a file of it changed on disk turns it modified (a file system
 * event, no refresh asked); its row expands to both versions; Checkout from its context menu is
 * refused by the agent for the unsaved change, and after the modal's Overwrite the data is HEAD's
 * again and the row clean; comparing the first version with the workspace's pointer lists the one
 * file changed since; its Files node browses the dataset folder by folder, and a file row opens the
 * workspace file. Screenshots go to $MLW_TEST_ARTIFACTS.
 * Needs scripts/setup/{chromium,code-server}.sh (npm test runs them) and a built dist/ (bin/mlw.js).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { EditorSessions } from './support/session';
import { REPO_ROOT } from './support/vsix';
import { fromContextMenu, openViewContainer, statusItem } from './support/workbench';

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
};

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, env: ENV });
}

function mlw(cwd: string, ...args: string[]): void {
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'mlw.js'), ...args], { cwd, env: ENV });
}

void describe('Datasets view (code-server)', () => {
  const sessions = new EditorSessions();
  let page: Page;
  let workspace: string;
  let tree: Locator;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);
  const datasetRow = (state: string): Locator =>
    tree.locator('.monaco-list-row', { hasText: 'data' }).filter({ hasText: state }).first();

  before(async () => {
    ({ page, workspace } = await sessions.open({
      files: {
        'data/a.txt': 'first\n',
        'data/b.txt': 'b one\n',
        'data/photos/cat.txt': 'meow',
        'README.md': '# data\n',
      },
      prepare: async (root) => {
        git(root, 'init', '-q', '-b', 'main');
        mlw(root, 'data', 'add', 'data');
        git(root, 'add', '-A');
        git(root, 'commit', '-q', '-m', 'initial data');
        writeFileSync(join(root, 'data', 'b.txt'), 'b two\n');
        mlw(root, 'data', 'add', 'data');
        git(root, 'add', '-A');
        git(root, 'commit', '-q', '-m', 'second version');
      },
    }));
  });

  after(() => sessions.close());

  void test('the view lists the dataset clean, with its file count', () =>
    step('datasets-clean', async () => {
      // No DAG file here: opening the view is what activates the extension and starts the agent.
      const sidebar = await openViewContainer(page, 'MLOps', 'Datasets');
      const ready = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
      await ready.waitFor();
      assert.match((await ready.getAttribute('aria-label')) ?? '', /^MLOps agent: ready/);
      tree = sidebar.locator('.monaco-list[aria-label="Datasets"]');
      const row = datasetRow('clean');
      await row.waitFor();
      assert.match(await row.innerText(), /3 files/);
      await sessions.screenshot('datasets-clean.png');
    }));

  void test('a file changed on disk turns the dataset modified, from the file event alone', () =>
    step('datasets-modified', async () => {
      writeFileSync(join(workspace, 'data', 'a.txt'), 'edited outside the editor\n');
      await datasetRow('modified').waitFor();
      await sessions.screenshot('datasets-modified.png');
    }));

  void test('the dataset row expands to its two versions, newest first', () =>
    step('datasets-versions', async () => {
      await datasetRow('modified').click();
      const second = tree.locator('.monaco-list-row', { hasText: 'second version' });
      const first = tree.locator('.monaco-list-row', { hasText: 'initial data' });
      await second.waitFor();
      await first.waitFor();
      const top = async (row: Locator): Promise<number> => (await row.boundingBox())?.y ?? Number.NaN;
      assert.ok((await top(second)) < (await top(first)), 'the newest version is listed first');
      await sessions.screenshot('datasets-versions.png');
    }));

  void test('Checkout is refused for the unsaved change; after Overwrite the data is HEAD’s and the row clean', () =>
    step('datasets-checkout', async () => {
      await fromContextMenu(page, datasetRow('modified'), 'Checkout Dataset');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /would overwrite or remove 1 file/);
      await sessions.screenshot('datasets-checkout-confirm.png');
      await dialog.locator('.monaco-button', { hasText: 'Overwrite' }).click();
      await datasetRow('clean').waitFor();
      assert.equal(readFileSync(join(workspace, 'data', 'a.txt'), 'utf8'), 'first\n');
      await sessions.screenshot('datasets-checked-out.png');
    }));

  void test('Compare Version with Workspace on the first version lists the one file changed since', () =>
    step('datasets-diff', async () => {
      // The version row's inline action (the context menu has the same command).
      const version = tree.locator('.monaco-list-row', { hasText: 'initial data' });
      await version.hover();
      await version.locator('.action-label[aria-label="Compare Version with Workspace"]').click();
      const rows = page.locator('.quick-input-list .monaco-list-row');
      await rows.filter({ hasText: 'b.txt' }).waitFor();
      await sessions.screenshot('datasets-diff.png');
      // Label and description are separate elements (innerText joins them without a space, after the icon).
      const texts = await rows.allInnerTexts();
      await page.keyboard.press('Escape'); // first: an open quick pick would block the next steps
      assert.equal(texts.length, 1, texts.join(' | '));
      assert.match(texts[0]!, /^\s*b\.txt\s*changed since$/);
    }));

  void test('Files browses the dataset: a folder expands to its files, and a file row opens the workspace file', () =>
    step('datasets-files', async () => {
      // Rows are found by their accessible labels (the model's), which name the kind of row.
      await tree.locator('.monaco-list-row[aria-label="Files of data"]').click();
      const folder = tree.locator('.monaco-list-row[aria-label^="folder photos, "]');
      await folder.waitFor();
      assert.match(await folder.innerText(), /1 file/);
      await folder.click();
      const file = tree.locator('.monaco-list-row[aria-label^="file cat.txt, "]');
      await file.waitFor();
      assert.match(await file.innerText(), /4 B/);
      await sessions.screenshot('datasets-files.png');
      await file.click();
      await page.locator('.tab[aria-label*="cat.txt"]').waitFor();
      await sessions.screenshot('datasets-file-opened.png');
    }));
});
