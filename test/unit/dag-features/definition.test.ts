import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definitionAt } from '../../../agent/src/dag/features/definition';
import { parseDagModel } from '../../../agent/src/dag/model';
import { PIPELINE, URI, pos, range } from './fixture';

const model = parseDagModel(PIPELINE);
const definition = (line: number, character: number) => definitionAt(model, URI, pos(line, character));

void describe('go to definition', () => {
  void test('a needs entry (list form) goes to the task key', () => {
    assert.deepEqual(definition(16, 14), { uri: URI, range: range(12, 2, 12, 10) });
  });

  void test('a needs entry (scalar form) goes to the task key', () => {
    assert.deepEqual(definition(22, 11), { uri: URI, range: range(15, 2, 15, 7) });
  });

  void test('one expansion (`train@rf`) goes to the matrix task', () => {
    assert.deepEqual(definition(26, 15), { uri: URI, range: range(15, 2, 15, 7) });
  });

  void test("a task's environment and defaults.environment go to the environment key", () => {
    assert.deepEqual(definition(17, 19), { uri: URI, range: range(7, 2, 7, 7) });
    assert.deepEqual(definition(10, 15), { uri: URI, range: range(5, 2, 5, 9) });
  });

  void test('${params.x} goes to the param key, ${matrix.x} to the axis of its task', () => {
    assert.deepEqual(definition(13, 45), { uri: URI, range: range(2, 2, 2, 6) });
    assert.deepEqual(definition(13, 35), { uri: URI, range: range(2, 2, 2, 6) }, 'from the `$` too');
    assert.deepEqual(definition(19, 43), { uri: URI, range: range(18, 14, 18, 19) });
  });

  void test('nothing to go to: a plain key, a command, an undefined name', () => {
    assert.equal(definition(13, 5), null);
    assert.equal(definition(23, 15), null);
    const broken = parseDagModel('version: 1\ntasks:\n  a:\n    run: echo ${params.nope}\n    needs: [ghost]\n');
    assert.equal(definitionAt(broken, URI, pos(4, 13)), null);
    assert.equal(definitionAt(broken, URI, pos(3, 25)), null);
  });
});
