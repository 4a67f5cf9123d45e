/**
 * The DAG model the language features build on: instances named as the runs service names them,
 * references resolved, and "what is at this offset" with its definition and references.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDagModel } from '../../../agent/src/dag/model';

const iris = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'iris', 'iris.dag.yaml'), 'utf8');

function spanText(text: string, located: { span: { start: number; end: number } }): string {
  return text.slice(located.span.start, located.span.end);
}

void describe('DagModel', () => {
  void test('matrix tasks expand to task@values (joined by -), paths substituted per instance', () => {
    const text = 'version: 1\nparams: { dir: out }\ntasks:\n  t:\n    run: x\n    matrix: { a: [1, 2], b: [x] }\n    outputs: ["${params.dir}/${matrix.a}-${matrix.b}/", ./log.txt]\n';
    const model = parseDagModel(text);
    assert.deepEqual(
      model.instances.map((instance) => [instance.name, instance.outputs.map((output) => `${output.path}${output.directory ? '/' : ''}`)]),
      [
        ['t@1-x', ['out/1-x/', 'log.txt']],
        ['t@2-x', ['out/2-x/', 'log.txt']],
      ],
    );
  });

  void test('the example: tasks, needs resolved to instances, names and ranges', () => {
    const model = parseDagModel(iris);
    assert.equal(model.name, 'iris-model-selection');
    assert.deepEqual([...model.tasks.keys()], ['features', 'train', 'select_best']);
    assert.deepEqual(model.instances.map((instance) => instance.name), ['features', 'train@rf', 'train@gb', 'select_best']);
    const needTrain = model.needRefs.find((ref) => ref.name === 'train')!;
    assert.deepEqual(needTrain.targets.map((instance) => instance.name), ['train@rf', 'train@gb']);
    assert.equal(spanText(iris, needTrain), 'train');
    assert.equal(model.defaultEnvironment?.target?.name, 'sklearn');
  });

  void test('symbolAt finds the innermost symbol; definitionOf and referencesOf serve go-to and rename', () => {
    const model = parseDagModel(iris);
    const needOffset = iris.indexOf('needs: [train]') + 'needs: ['.length + 2;
    const need = model.symbolAt(needOffset)!;
    assert.equal(need.kind, 'need');
    const definition = model.definitionOf(need)!;
    assert.equal(spanText(iris, definition), 'train');
    assert.equal(definition.range.start.character, 2);
    assert.deepEqual(model.referencesOf(need).map((located) => located.range.start.line), [definition.range.start.line, need.kind === 'need' ? need.ref.range.start.line : -1]);

    const seedUse = iris.indexOf('${params.seed}') + 4;
    const param = model.symbolAt(seedUse)!;
    assert.equal(param.kind, 'param-ref');
    const references = model.referencesOf(param);
    assert.deepEqual(references.map((located) => spanText(iris, located)), ['seed', 'seed', 'seed']);

    const matrixInOutput = iris.indexOf('"build/models/${matrix.model}') + '"build/models/${ma'.length;
    const matrixRef = model.symbolAt(matrixInOutput)!;
    assert.equal(matrixRef.kind, 'matrix-ref');
    assert.equal(spanText(iris, model.definitionOf(matrixRef)!), 'model');
  });

  void test('a half-typed file still has a model', () => {
    const model = parseDagModel('version: 1\ntasks:\n  a:\n    run: x\n    needs: [b\n  b:\n');
    assert.ok(model.tasks.has('a'));
  });
});
