/**
 * End to end, in a real VS Code: code-server with the packaged .vsix installed, driven by Chromium.
 * A workspace holding a DAG file with a cycle (a needs b, b needs a) and a matrix task; the agent
 * must start from inside the .vsix, the Problems panel must show the cycle, and the MLOps container's
 * Pipelines view must list the file's tasks. Screenshots go to $MLW_TEST_ARTIFACTS.
 * Needs scripts/setup/chromium.sh and scripts/setup/code-server.sh (npm test runs them).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { EditorSessions, type EditorSession } from './support/session';
import { openFile, openViewContainer, runCommand, showProblems, statusItem } from './support/workbench';

const DAG_FILE = 'cycle.dag.yaml';
const DAG_TEXT = `version: 1
name: cycle-demo
tasks:
  a:
    run: echo a
    needs: [b]
  b:
    run: echo b
    needs: [a]
  train:
    run: echo \${matrix.model}
    matrix: { model: [rf, gb] }
`;
const CYCLE = /\b(a → b → a|b → a → b)\b/;

const run = promisify(execFile);

void describe('VS Code (code-server) with the packaged extension', () => {
  const sessions = new EditorSessions();
  let session: EditorSession;
  let page: Page;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);

  before(async () => {
    session = await sessions.open({ files: { [DAG_FILE]: DAG_TEXT } });
    page = session.page;
  });

  after(() => sessions.close());

  void test('the .vsix carries both bundles, the schema and the grammar, and no node_modules', async () => {
    const { stdout } = await run('unzip', ['-Z1', session.vsix]);
    const files = stdout.split('\n').filter((line) => line !== '');
    for (const file of [
      'dist/agent.js',
      'dist/extension.js',
      'schemas/dag.schema.json',
      'syntaxes/mlw-dag.tmLanguage.json',
    ]) {
      assert.ok(files.includes(`extension/${file}`), `${file} is missing from the .vsix:\n${files.join('\n')}`);
    }
    assert.deepEqual(
      files.filter((file) => file.includes('node_modules/')),
      [],
    );
  });

  void test('the agent starts from inside the .vsix and the status bar says it is ready', () =>
    step('agent-status', async () => {
      const settled = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
      await settled.waitFor();
      const label = (await settled.getAttribute('aria-label')) ?? '';
      assert.match(label, /^MLOps agent: ready \(\d+\.\d+\.\d+/);
    }));

  /**
   * Opens the Pipelines view and waits for the agent's answer: the file's row, or the view's message
   * saying why there is none (agent down, request failed) — both are events, neither a timeout.
   * Resolves to the row's text ("cycle-demo cycle.dag.yaml · 2 errors").
   */
  async function pipelineRowText(): Promise<string> {
    const sidebar = await openViewContainer(page, 'MLOps', 'Pipelines');
    const tree = sidebar.locator('.monaco-list[aria-label="Pipelines"]');
    const row = tree.locator('.monaco-list-row', { hasText: 'cycle-demo' });
    // Other views of the container (Branches in this non-git folder, Runs, …) show their own messages: look in the Pipelines pane only.
    const pane = sidebar.locator('.pane').filter({ has: page.locator('.pane-header .title', { hasText: /^Pipelines$/ }) });
    const message = pane.locator('.tree-explorer-viewlet-tree-view > .message').filter({ hasText: /\S/ });
    await row.or(message).first().waitFor();
    if (await message.isVisible())
      assert.fail(`the Pipelines view shows a message instead of pipelines: ${await message.innerText()}`);
    return row.innerText();
  }

  void test('the Pipelines view lists the file with its problem count and its tasks, matrix expanded', () =>
    step('pipelines-view', async () => {
      assert.match(await pipelineRowText(), /cycle\.dag\.yaml · \d+ errors?/);
      const tree = page.locator('.monaco-list[aria-label="Pipelines"]');
      for (const task of ['a', 'b', 'train@rf', 'train@gb']) {
        await tree.locator(`.monaco-list-row[aria-label^="${task}"]`).first().waitFor();
      }
      await session.screenshot('vscode-pipelines-view.png');
    }));

  void test('the Problems panel shows the cycle, on each of its edges', () =>
    step('problems-panel', async () => {
      // The agent has validated the file once the Pipelines view counts its errors; without an error
      // there will be no marker to wait for, so fail now rather than wait forever.
      const counted = /· (\d+) errors?/.exec(await pipelineRowText());
      assert.ok(counted !== null && Number(counted[1]) >= 1, 'the agent counts no error in a file holding a cycle');
      await openFile(page, DAG_FILE);
      const panel = await showProblems(page);
      // Diagnostics for a file arrive in one publish: wait for the first marker, then read them all.
      const markers = panel.locator('.monaco-list-row:has(.marker-icon)');
      await markers.first().waitFor();
      const messages = await markers.allInnerTexts();
      const cycles = messages.filter((text) => CYCLE.test(text));
      assert.ok(
        cycles.length >= 2,
        `expected the cycle on both edges (a → b, b → a); the Problems panel shows:\n${messages.join('\n')}`,
      );
      await session.screenshot('vscode-problems-cycle.png');
    }));

  void test('the file is in the mlw-dag language and highlighted with the YAML grammar', () =>
    step('highlighting', async () => {
      await openFile(page, DAG_FILE);
      await statusItem(page, 'MLOps Pipeline').first().waitFor();
      // The first line, `version: 1`, gets distinct token colours for key, punctuation and number.
      const firstLine = page.locator('.monaco-editor .view-lines .view-line', { hasText: 'version' }).first();
      await firstLine.waitFor();
      const tokenClasses = await firstLine
        .locator('span[class^="mtk"]')
        .evaluateAll((spans) => spans.map((span) => span.className));
      assert.ok(
        new Set(tokenClasses).size >= 3,
        `expected YAML tokens on "version: 1", got classes ${tokenClasses.join(' ')}`,
      );
      // ${matrix.model} inside the run command: the injected grammar sets `model` apart from the string.
      const runLine = page
        .locator('.monaco-editor .view-lines .view-line', { hasText: 'echo ${matrix.model}' })
        .first();
      const tokens = await runLine
        .locator('span[class^="mtk"]')
        .evaluateAll((spans) => spans.map((span) => ({ text: span.textContent ?? '', className: span.className })));
      const echo = tokens.find((token) => token.text.includes('echo'));
      const model = tokens.find((token) => token.text === 'model');
      assert.ok(echo !== undefined && model !== undefined, `unexpected tokens: ${JSON.stringify(tokens)}`);
      assert.notEqual(model.className.split(' ')[0], echo.className.split(' ')[0]);
    }));

  void test('MLOps: Restart Agent starts a new agent, and the views follow the new connection', () =>
    step('restart', async () => {
      const ready = statusItem(page, 'MLOps agent: ready');
      const oldPid = /pid (\d+)\)/.exec((await ready.getAttribute('aria-label')) ?? '')?.[1];
      assert.ok(oldPid !== undefined);
      await runCommand(page, 'MLOps: Restart Agent');
      await page
        .locator(`.statusbar-item[aria-label^="MLOps agent: ready"]:not([aria-label*="pid ${oldPid})"])`)
        .waitFor();
      // Break the cycle on disk: the new agent re-validates, the Problems panel empties, and the
      // Pipelines view, subscribed to mlw/dag/changed before the restart, redraws without errors.
      writeFileSync(join(session.workspace, DAG_FILE), DAG_TEXT.replace('    needs: [a]\n', ''));
      const panel = await showProblems(page);
      await panel.locator('.monaco-list-row:has(.marker-icon)').first().waitFor({ state: 'detached' });
      const sidebar = await openViewContainer(page, 'MLOps', 'Pipelines');
      await sidebar
        .locator('.monaco-list[aria-label="Pipelines"] .monaco-list-row', { hasText: 'cycle-demo' })
        .filter({ hasNotText: /error/ })
        .waitFor();
      await session.screenshot('vscode-after-restart.png');
    }));
});
