/**
 * Restricted Mode, in a real VS Code: the user declines to trust the folder; the extension (limited
 * support for untrusted workspaces) still starts its agent and validates, so the cycle shows in the
 * Problems panel. The commands that run user code or change the repository (runs, pipelines,
 * builds, git operations) are disabled there: test/unit/extension's manifest test checks each is
 * gated on trust (`enablement: isWorkspaceTrusted`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { EditorSessions } from './support/session';
import { openFile, showProblems, statusItem } from './support/workbench';

const DAG_FILE = 'pipelines/dag.yaml';
const DAG_TEXT = `version: 1
tasks:
  a:
    run: echo a
    needs: [b]
  b:
    run: echo b
    needs: [a]
`;

void describe('VS Code in Restricted Mode (workspace not trusted)', () => {
  const sessions = new EditorSessions();
  let page: Page;

  before(async () => {
    ({ page } = await sessions.open({ files: { [DAG_FILE]: DAG_TEXT }, askForWorkspaceTrust: true }));
  });

  after(() => sessions.close());

  void test('declining trust leaves the folder in Restricted Mode', () =>
    sessions.step('restricted-decline', async () => {
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.getByRole('button', { name: /No, I don't trust/ }).click();
      await statusItem(page, 'Restricted Mode').first().waitFor();
    }));

  void test('the agent starts and a dag.yaml is validated: the cycle is in the Problems panel', () =>
    sessions.step('restricted-problems', async () => {
      const settled = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
      await settled.waitFor();
      assert.match((await settled.getAttribute('aria-label')) ?? '', /^MLOps agent: ready/);
      await openFile(page, 'dag.yaml');
      await statusItem(page, 'MLOps Pipeline').first().waitFor();
      const panel = await showProblems(page);
      const markers = panel.locator('.monaco-list-row:has(.marker-icon)');
      await markers.first().waitFor();
      const messages = await markers.allInnerTexts();
      assert.ok(
        messages.some((text) => /\b(a → b → a|b → a → b)\b/.test(text)),
        `expected the cycle in Restricted Mode; the Problems panel shows:\n${messages.join('\n')}`,
      );
      await sessions.screenshot('vscode-restricted-mode.png');
    }));
});
