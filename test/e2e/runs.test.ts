/**
 * End to end, in a real VS Code (code-server + Chromium) against the real Docker Engine: a git
 * workspace holding a DAG whose matrix task `train` (lr 1 and 2) writes a loss point per step to
 * $MLW_METRICS in the busybox test image. Start Run (the whole matrix) from the Runs view's command;
 * the rows appear, spin while running and turn succeeded — driven by the agent's notifications; the
 * metrics webview of the second run, opened before it finishes, grows its chart to all five points;
 * Compare Runs shows the two side by side with the loss row highlighted; the log opens read-only.
 * Screenshots go to $MLW_TEST_ARTIFACTS.
 * Needs scripts/setup/{docker,images,chromium,code-server}.sh (npm test runs them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { BUSYBOX_IMAGE as IMAGE, git, requireDocker, webview } from './support/fixtures';
import { EditorSessions } from './support/session';
import { openViewContainer, runCommand, statusItem } from './support/workbench';

const DAG_FILE = 'pipe.dag.yaml';
// The task paces itself (sleep between points) so the run is seen running; the test waits on events.
const DAG_TEXT = `version: 1
environments:
  box:
    docker: { image: ${IMAGE} }
defaults:
  environment: box
tasks:
  train:
    matrix: { lr: [1, 2] }
    run: |
      for i in 0 1 2 3 4; do
        echo "step $i"
        echo "{\\"step\\": $i, \\"loss\\": \${matrix.lr}.$i}" >> $MLW_METRICS
        sleep 1
      done
`;

void describe('Runs view, metrics and compare webviews (code-server, Docker Engine)', () => {
  const sessions = new EditorSessions();
  let page: Page;
  let runsTree: Locator;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);

  before(async () => {
    await requireDocker();
    ({ page } = await sessions.open({
      files: { [DAG_FILE]: DAG_TEXT, '.gitignore': '.mlw/\n' },
      prepare: async (workspace) => {
        git(workspace, 'init', '-q', '-b', 'main');
        git(workspace, 'add', '-A');
        git(workspace, 'commit', '-q', '-m', 'initial');
      },
    }));
    runsTree = page.locator('.monaco-list[aria-label="Runs"]');
  });

  after(() => sessions.close());

  /** A run's row in the Runs view; its accessible name is "run NAME ID STATUS". */
  const runRow = (name: string, status?: string): Locator =>
    runsTree.locator(
      `.monaco-list-row[aria-label^="run ${name} "]${status === undefined ? '' : `[aria-label$=" ${status}"]`}`,
    );

  void test('the Runs view lists nothing yet and offers Start Run', () =>
    step('runs-empty', async () => {
      const ready = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
      await ready.waitFor();
      assert.match((await ready.getAttribute('aria-label')) ?? '', /^MLOps agent: ready/);
      const sidebar = await openViewContainer(page, 'MLOps', 'Runs');
      // Other views of the container have their own messages and welcome text: look in the Runs pane only.
      const pane = sidebar.locator('.pane').filter({ has: page.locator('.pane-header .title', { hasText: /^Runs$/ }) });
      const message = pane.locator('.tree-explorer-viewlet-tree-view > .message').filter({ hasText: /\S/ });
      const welcome = pane.locator('.welcome-view-content', { hasText: 'No runs yet' });
      await welcome.or(message).first().waitFor();
      if (await message.isVisible()) assert.fail(`the Runs view shows a message: ${await message.innerText()}`);
    }));

  void test('Start Run of the matrix task: both runs appear and the first spins while it runs', () =>
    step('runs-start', async () => {
      await runCommand(page, 'MLOps: Start Run…');
      const choice = page.locator('.quick-input-list .monaco-list-row', { hasText: 'all 2 expansions' });
      await choice.waitFor();
      await choice.click();
      const running = runRow('train@1', 'running');
      await running.waitFor();
      assert.equal(await running.locator('.codicon-sync').count(), 1, 'a running run has the spinning icon');
      await runRow('train@2').waitFor();
      await sessions.screenshot('runs-view-running.png');
    }));

  void test('the metrics webview of a run still going on grows its chart live to every point', () =>
    step('runs-metrics-live', async () => {
      // train@2 waits for train@1 (one CPU slot here) and then paces itself: it is not finished yet.
      await runCommand(page, 'MLOps: Show Run Metrics');
      const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'train@2' });
      await pick.waitFor();
      await pick.click();
      const frame = webview(page);
      const badge = frame.locator('[data-status]');
      await badge.waitFor();
      const firstStatus = await badge.getAttribute('data-status');
      assert.ok(
        firstStatus === 'queued' || firstStatus === 'running',
        `the page opened on a run that is ${firstStatus}; points can only arrive live if it is not finished`,
      );
      // The page asks for the series once; every later point comes from mlw/runs/metric notifications.
      const chart = frame.locator('svg.chart[data-metric="loss"][data-points="5"]');
      await chart.waitFor();
      await frame.locator('[data-status="succeeded"]').waitFor();
      assert.equal(await chart.locator('polyline.line').count(), 1);
      await sessions.screenshot('runs-metrics-webview.png');
    }));

  void test('both runs turn succeeded in the view, with their latest loss', () =>
    step('runs-succeeded', async () => {
      for (const name of ['train@1', 'train@2']) {
        const done = runRow(name, 'succeeded');
        await done.waitFor();
        assert.equal(await done.locator('.codicon-pass-filled').count(), 1, `${name} shows the succeeded icon`);
      }
      // The description carries the latest metric, from the same notifications.
      assert.match(await runRow('train@2', 'succeeded').innerText(), /loss 2\.4/);
      await sessions.screenshot('runs-view-succeeded.png');
    }));

  void test('Compare Runs on the two selected runs highlights the loss that differs', () =>
    step('runs-compare', async () => {
      await runCommand(page, 'View: Close All Editors');
      await runRow('train@1', 'succeeded').click();
      await runRow('train@2', 'succeeded').click({ modifiers: ['Control'] });
      await runCommand(page, 'MLOps: Compare Runs');
      const frame = webview(page);
      const loss = frame.locator('table.compare tr.differs[data-name="loss"]');
      await loss.waitFor();
      assert.equal(await frame.locator('table.compare thead th a.run').count(), 2);
      assert.equal(await loss.locator('td.changed').count(), 1, 'the second run differs from the first');
      assert.deepEqual((await loss.locator('td').allInnerTexts()).map((text) => text.trim()).sort(), ['1.4', '2.4']);
      await sessions.screenshot('runs-compare-webview.png');
    }));

  void test('Open Run Log shows the output of the run in a read-only editor', () =>
    step('runs-log', async () => {
      await runCommand(page, 'MLOps: Open Run Log');
      const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'train@2' });
      await pick.waitFor();
      await pick.click();
      await page.locator('.tab[aria-label*="train@2.log"]').waitFor();
      const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
      await editor.locator('.view-line', { hasText: 'succeeded: exit code 0' }).waitFor();
      // Monaco renders spaces as no-break spaces and places lines by their `top`, not in DOM order.
      const lines = await editor.locator('.view-line').evaluateAll((elements) =>
        elements
          .map((element) => ({
            top: parseFloat((element as unknown as { style: { top: string } }).style.top),
            text: element.textContent ?? '',
          }))
          .sort((a, b) => a.top - b.top)
          .map((line) => line.text.replace(/\u00a0/g, ' ')),
      );
      assert.deepEqual(
        lines.filter((line) => line !== ''),
        ['step 0', 'step 1', 'step 2', 'step 3', 'step 4', '[mlw] succeeded: exit code 0'],
      );
      await sessions.screenshot('runs-log.png');
    }));
});
