/** The extension's vscode-free pieces: how the agent is launched, and what the Pipelines view shows. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PipelineSummary } from '../../../schemas/protocol';
import { AGENT_V8_FLAGS, agentLaunch } from '../../../extension/src/agent/launch';
import { describeAgentState } from '../../../extension/src/agent/state';
import {
  isMatrixInstance,
  pipelineDescription,
  problemCountText,
  sortedPipelines,
  taskDescription,
} from '../../../extension/src/views/pipelines-model';

const range = { start: { line: 3, character: 2 }, end: { line: 3, character: 7 } };

function summary(path: string, errors: number, warnings: number): PipelineSummary {
  return {
    path,
    name: 'p',
    errors,
    warnings,
    tasks: [
      { name: 'train@rf', task: 'train', range, dependsOn: ['features'] },
      { name: 'features', task: 'features', range, dependsOn: [] },
    ],
  };
}

void describe('agent launch', () => {
  void test("without a configured node it runs the bundled agent on the editor's runtime, as Node", () => {
    const launch = agentLaunch({
      extensionRoot: '/ext',
      configuredNodePath: '  ',
      editorRuntime: '/opt/code/code',
      baseEnv: { PATH: '/bin' },
    });
    assert.equal(launch.command, '/opt/code/code');
    assert.deepEqual(launch.args, [...AGENT_V8_FLAGS, join('/ext', 'dist', 'agent.js'), 'agent', '--stdio']);
    assert.deepEqual(launch.env, { PATH: '/bin', ELECTRON_RUN_AS_NODE: '1' });
  });

  void test('a configured node is used as is, with the environment untouched', () => {
    const launch = agentLaunch({
      extensionRoot: '/ext',
      configuredNodePath: '/usr/bin/node',
      editorRuntime: '/opt/code/code',
      baseEnv: { PATH: '/bin' },
    });
    assert.equal(launch.command, '/usr/bin/node');
    assert.deepEqual(launch.env, { PATH: '/bin' });
  });

  void test('the agent is started with exactly the arguments the mlw CLI accepts', () => {
    // vscode-languageclient's `module` form would add --clientProcessId=N, which the CLI rejects.
    const launch = agentLaunch({
      extensionRoot: '/ext',
      configuredNodePath: undefined,
      editorRuntime: 'node',
      baseEnv: {},
    });
    assert.deepEqual(launch.args.slice(AGENT_V8_FLAGS.length + 1), ['agent', '--stdio']);
    assert.ok(launch.args.slice(0, AGENT_V8_FLAGS.length).every((flag) => flag.startsWith('--')), 'runtime flags come before the script');
  });
});

void describe('agent state text', () => {
  void test('names the version when ready and the reason on error', () => {
    assert.equal(describeAgentState({ kind: 'ready', version: '0.1.0', pid: 7 }), 'ready (0.1.0)');
    assert.equal(describeAgentState({ kind: 'error', message: 'boom' }), 'error: boom');
    assert.equal(describeAgentState({ kind: 'starting' }), 'starting');
  });
});

void describe('Pipelines view model', () => {
  void test('problem counts read naturally and vanish when there are none', () => {
    assert.equal(problemCountText({ errors: 0, warnings: 0 }), '');
    assert.equal(problemCountText({ errors: 1, warnings: 0 }), '1 error');
    assert.equal(problemCountText({ errors: 2, warnings: 1 }), '2 errors, 1 warning');
    assert.equal(problemCountText({ errors: 0, warnings: 3 }), '3 warnings');
  });

  void test('a pipeline row shows its path and then its problems', () => {
    assert.equal(pipelineDescription(summary('/w/a.dag.yaml', 2, 0), 'a.dag.yaml'), 'a.dag.yaml · 2 errors');
    assert.equal(pipelineDescription(summary('/w/a.dag.yaml', 0, 0), 'a.dag.yaml'), 'a.dag.yaml');
  });

  void test('matrix instances are told apart from plain tasks', () => {
    const [instance, plain] = summary('/w/a.dag.yaml', 0, 0).tasks;
    assert.ok(instance !== undefined && plain !== undefined);
    assert.equal(isMatrixInstance(instance), true);
    assert.equal(isMatrixInstance(plain), false);
    assert.equal(taskDescription(instance), 'after features');
    assert.equal(taskDescription(plain), '');
  });

  void test('files are listed by path, whatever order the agent answers in', () => {
    const sorted = sortedPipelines([summary('/w/b.dag.yaml', 0, 0), summary('/w/a/dag.yaml', 0, 0)]);
    assert.deepEqual(
      sorted.map((entry) => entry.path),
      ['/w/a/dag.yaml', '/w/b.dag.yaml'],
    );
  });
});
