/**
 * End to end, in a real VS Code (code-server + Chromium) against the real Docker Engine: a git
 * workspace holding a DAG `prepare → train@a, train@b → report` in the busybox test image. Opening
 * the file shows the code lenses the agent's task ranges place (Run Pipeline, Explain All, Show
 * Graph above the first task; Run Task, Run from Here, Explain on each); Show Graph opens the graph
 * webview with the four instances in three layers; Run Pipeline turns every node succeeded from the
 * agent's mlw/pipeline/changed notifications; Explain on a task then lists it cached; clicking a node
 * opens its run's log. Screenshots go to $MLW_TEST_ARTIFACTS.
 * Needs scripts/setup/{docker,images,chromium,code-server}.sh (npm test runs them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { BUSYBOX_IMAGE as IMAGE, git, requireDocker, webview } from './support/fixtures';
import { EditorSessions } from './support/session';
import { openFile, statusItem } from './support/workbench';

const DAG_FILE = 'flow.dag.yaml';
const DAG_TEXT = `version: 1
environments:
  box:
    docker: { image: ${IMAGE} }
defaults:
  environment: box
tasks:
  prepare:
    run: mkdir -p out && echo prepared > out/prepared.txt
    outputs: [out/prepared.txt]
  train:
    matrix: { variant: [a, b] }
    run: cat out/prepared.txt > out/model-\${matrix.variant}.txt && echo trained \${matrix.variant}
    inputs: [out/prepared.txt]
    outputs: ["out/model-\${matrix.variant}.txt"]
  report:
    run: cat out/model-a.txt out/model-b.txt > out/report.txt
    inputs: [out/model-a.txt, out/model-b.txt]
    outputs: [out/report.txt]
`;

void describe('DAG file code lenses and graph webview (code-server, Docker Engine)', () => {
  const sessions = new EditorSessions();
  let page: Page;
  const step = (name: string, body: () => Promise<void>): Promise<void> => sessions.step(name, body);
  /** A code lens of the open editor by its title text. */
  const lens = (title: string): Locator => page.locator('.codelens-decoration a', { hasText: title });
  const node = (name: string, status?: string): Locator =>
    webview(page).locator(`g.node[data-name="${name}"]${status === undefined ? '' : `.status-${status}`}`);

  before(async () => {
    await requireDocker();
    ({ page } = await sessions.open({
      files: { [DAG_FILE]: DAG_TEXT, '.gitignore': '.mlw/\nout/\n' },
      prepare: async (workspace) => {
        git(workspace, 'init', '-q', '-b', 'main');
        git(workspace, 'add', '-A');
        git(workspace, 'commit', '-q', '-m', 'initial');
      },
    }));
  });

  after(() => sessions.close());

  void test('the DAG file shows lenses for the file and for each task key, placed by the agent', () =>
    step('pipeline-lenses', async () => {
      const ready = statusItem(page, 'MLOps agent: ready').or(statusItem(page, 'MLOps agent: error'));
      await ready.waitFor();
      assert.match((await ready.getAttribute('aria-label')) ?? '', /^MLOps agent: ready/);
      await openFile(page, DAG_FILE);
      await lens('Run Pipeline').waitFor();
      // Three task keys (train's two instances share one row): three of each per-task lens.
      await lens('Run from Here').nth(2).waitFor();
      assert.equal(await lens('Run from Here').count(), 3);
      assert.equal(await lens('Run Task').count(), 3);
      assert.equal(await lens('Run Task (2 instances)').count(), 1);
      assert.equal(await lens('Explain All').count(), 1);
      assert.equal(await lens('Show Graph').count(), 1);
      await sessions.screenshot('pipeline-code-lenses.png');
    }));

  void test('Show Graph draws every instance in longest-path layers, idle before any run', () =>
    step('pipeline-graph', async () => {
      await lens('Show Graph').click();
      for (const name of ['prepare', 'train@a', 'train@b', 'report']) await node(name, 'idle').waitFor();
      const y = async (name: string): Promise<number> => {
        const transform = (await node(name).getAttribute('transform')) ?? '';
        return Number(/translate\([\d.]+ ([\d.]+)\)/.exec(transform)?.[1]);
      };
      const [prepare, a, b, report] = await Promise.all(['prepare', 'train@a', 'train@b', 'report'].map(y));
      assert.ok(prepare! < a! && a === b && b! < report!, `layers by y: ${[prepare, a, b, report].join(', ')}`);
      assert.equal(await webview(page).locator('path.edge').count(), 4);
      await sessions.screenshot('pipeline-graph-idle.png');
    }));

  void test('Run Pipeline: the graph turns every node succeeded from the agent’s notifications', () =>
    step('pipeline-run', async () => {
      await lens('Run Pipeline').click();
      for (const name of ['prepare', 'train@a', 'train@b', 'report']) await node(name, 'succeeded').waitFor();
      await page.locator('.notification-list-item', { hasText: 'flow.dag.yaml succeeded (4 succeeded)' }).waitFor();
      await sessions.screenshot('pipeline-graph-succeeded.png');
    }));

  void test('Explain on train now lists both instances and prepare as cached', () =>
    step('pipeline-explain', async () => {
      await lens('Explain').nth(2).click(); // prepare's Explain, then train's (Explain All is first)
      const rows = page.locator('.quick-input-list .monaco-list-row');
      await rows.filter({ hasText: 'train@b' }).waitFor();
      const texts = await rows.allInnerTexts();
      assert.equal(texts.length, 3, texts.join(' | '));
      for (const text of texts) assert.match(text, /cached/);
      await sessions.screenshot('pipeline-explain.png');
      await page.keyboard.press('Escape');
    }));

  void test('clicking a node opens its run’s log', () =>
    step('pipeline-open-run', async () => {
      await node('train@b').click();
      await page.locator('.tab[aria-label*="train@b.log"]').waitFor();
      // The log opens in the graph's group (the active one), beside the DAG file's editor.
      const editor = page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines');
      await editor.locator('.view-line', { hasText: 'trained b' }).waitFor();
      await sessions.screenshot('pipeline-run-log.png');
    }));
});
