import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompletionItem, MarkupContent, TextEdit } from 'vscode-languageserver';
import { completionsAt } from '../../../agent/src/dag/features/completion';
import { Task } from '../../../schemas/dag';
import { range, withCursor } from './fixture';

const HEAD = `version: 1
params:
  seed: 42
  lr: 0.1
environments:
  sklearn:
    docker: { image: "python:3.11-slim" }
  light:
    venv: { requirements: requirements.txt }
tasks:
  features:
    run: python features.py
  train:
    matrix: { model: [rf, gb] }
    run: python train.py
`; // 15 lines: the task under test starts on line 15

function complete(textWithCursor: string): CompletionItem[] {
  const { model, position } = withCursor(textWithCursor);
  return completionsAt(model, position);
}

const labels = (items: readonly CompletionItem[]) => items.map((item) => item.label);
const edit = (items: readonly CompletionItem[], label: string) => items.find((item) => item.label === label)?.textEdit as TextEdit;

void describe('completion', () => {
  void test('inside a flow `needs` list: every other task, then expansions, replacing the word typed', () => {
    const items = complete(`${HEAD}  report:\n    needs: [features, tr|]\n    run: echo\n`);
    assert.deepEqual(labels(items), ['train', 'train@rf', 'train@gb']);
    assert.deepEqual(edit(items, 'train'), { range: range(16, 22, 16, 24), newText: 'train' });
    const empty = complete(`${HEAD}  report:\n    needs: [|]\n    run: echo\n`);
    assert.deepEqual(labels(empty), ['features', 'train', 'train@rf', 'train@gb']);
    assert.ok((empty[0]!.documentation as MarkupContent).value.startsWith('**task** `features`'));
  });

  void test('`needs:` in scalar and block forms; a task never needs itself', () => {
    assert.deepEqual(labels(complete(`${HEAD}  report:\n    needs: f|\n`)), ['features', 'train', 'train@rf', 'train@gb']);
    const block = complete(`${HEAD}  report:\n    needs:\n      - features\n      - |\n`);
    assert.deepEqual(labels(block), ['train', 'train@rf', 'train@gb']);
    assert.deepEqual(edit(block, 'train'), { range: range(18, 8, 18, 8), newText: 'train' });
    const inTrain = complete(HEAD.replace('    run: python train.py\n', '    needs: [|]\n    run: python train.py\n'));
    assert.deepEqual(labels(inTrain), ['features']);
  });

  void test('`environment:` in a task and in defaults offers the environments', () => {
    const items = complete(`${HEAD}  report:\n    environment: li|\n`);
    assert.deepEqual(labels(items), ['sklearn', 'light']);
    assert.deepEqual(edit(items, 'light'), { range: range(16, 17, 16, 19), newText: 'light' });
    assert.equal(items[1]!.detail, 'venv');
    assert.deepEqual(labels(complete(`${HEAD}defaults:\n  environment: |\n`)), ['sklearn', 'light']);
  });

  void test('`${params.` offers params and `${matrix.` the axes of the enclosing task, closing the brace when needed', () => {
    const params = complete(`${HEAD}  report:\n    run: echo \${params.|}\n`);
    assert.deepEqual(labels(params), ['seed', 'lr']);
    assert.deepEqual(edit(params, 'seed'), { range: range(16, 23, 16, 23), newText: 'seed' });
    assert.equal(params[0]!.detail, 'param = 42');
    const axes = complete(HEAD.replace('python train.py', 'python train.py --model ${matrix.mo|'));
    assert.deepEqual(labels(axes), ['model']);
    assert.deepEqual(edit(axes, 'model'), { range: range(14, 42, 14, 44), newText: 'model}' });
    assert.deepEqual(labels(complete(`${HEAD}  report:\n    run: echo \${matrix.|}\n`)), [], 'report has no matrix');
  });

  void test('keys of a task, with their schema docs, leaving out those already written', () => {
    const items = complete(`${HEAD}  report:\n    run: echo\n    re|\n`);
    const names = labels(items);
    assert.ok(names.includes('retries') && names.includes('resources') && names.includes('needs'), names.join());
    assert.ok(!names.includes('run'), 'run is already written');
    const retries = items.find((item) => item.label === 'retries')!;
    assert.deepEqual(retries.textEdit, { range: range(17, 4, 17, 6), newText: 'retries: ' });
    assert.equal((retries.documentation as MarkupContent).value, `\`tasks.<name>.retries\`\n\n${Task.shape.retries.description}`);
    assert.equal(retries.detail, 'integer');
  });

  void test('keys at the top level and in nested objects; none where the user names the keys', () => {
    const top = labels(complete('version: 1\n|\ntasks: {}\n'));
    assert.deepEqual(top, ['name', 'description', 'params', 'environments', 'defaults']);
    const resources = labels(complete(`${HEAD}  report:\n    run: echo\n    resources:\n      |\n`));
    assert.deepEqual(resources, ['cpus', 'memory', 'gpus']);
    const docker = labels(complete('version: 1\nenvironments:\n  e:\n    docker:\n      |\ntasks: {}\n'));
    assert.deepEqual(docker, ['dockerfile', 'context', 'args', 'target', 'image']);
    assert.deepEqual(complete(`${HEAD}  |\n`), [], 'under tasks: a new task name is the user’s');
  });

  void test('nothing inside a command or after other keys', () => {
    assert.deepEqual(complete(`${HEAD}  report:\n    run: python x|\n`), []);
    assert.deepEqual(complete(`${HEAD}  report:\n    retries: |\n`), []);
  });
});
