import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextEdit } from 'vscode-languageserver';
import { prepareRenameAt, renameAt } from '../../../agent/src/dag/features/rename';
import { parseDagModel } from '../../../agent/src/dag/model';
import { PIPELINE, URI, applyEdits, pos, range } from './fixture';

const model = parseDagModel(PIPELINE);

function editsOf(line: number, character: number, newName: string): TextEdit[] {
  const result = renameAt(model, URI, pos(line, character), newName);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.edit.changes![URI]!;
}

void describe('rename a task', () => {
  void test('prepareRename accepts a task key and a needs entry (the task part of an expansion)', () => {
    assert.deepEqual(prepareRenameAt(model, pos(15, 4)), { ok: true, range: range(15, 2, 15, 7), placeholder: 'train' });
    assert.deepEqual(prepareRenameAt(model, pos(22, 12)), { ok: true, range: range(22, 11, 22, 16), placeholder: 'train' });
    assert.deepEqual(prepareRenameAt(model, pos(26, 9)), { ok: true, range: range(26, 8, 26, 13), placeholder: 'train' });
  });

  void test('prepareRename refuses what is not a task, with a reason', () => {
    for (const [line, character, what] of [
      [2, 3, 'a param'],
      [5, 4, 'an environment'],
      [17, 19, 'an environment reference'],
      [13, 5, 'a key'],
      [23, 14, 'a command'],
      [13, 45, 'a ${params} reference'],
      [26, 15, 'the @ suffix of an expansion'],
    ] as const) {
      const check = prepareRenameAt(model, pos(line, character));
      assert.equal(check.ok, false, what);
      assert.ok(!check.ok && check.reason.length > 0);
    }
    const unknown = prepareRenameAt(parseDagModel('version: 1\ntasks:\n  a:\n    run: x\n    needs: [ghost]\n'), pos(4, 13));
    assert.deepEqual(unknown, { ok: false, reason: 'no task named "ghost" to rename' });
  });

  void test('renaming rewrites the key and every needs entry: list, scalar and block forms, expansions', () => {
    const edits = editsOf(22, 12, 'fit');
    assert.deepEqual(
      edits.map((edit) => edit.range),
      [range(15, 2, 15, 7), range(22, 11, 22, 16), range(26, 8, 26, 13)],
    );
    const renamed = applyEdits(PIPELINE, edits);
    assert.equal(renamed, PIPELINE.replace('  train:', '  fit:').replace('needs: train', 'needs: fit').replace('- train@rf', '- fit@rf'));
    const after = parseDagModel(renamed);
    assert.deepEqual([...after.tasks.keys()], ['features', 'fit', 'select_best', 'report']);
    assert.ok(after.needRefs.every((ref) => ref.targetTask !== undefined), 'every need still names a task');
  });

  void test('renaming from a needs entry in a flow list rewrites the task and that entry', () => {
    const edits = editsOf(16, 15, 'featurize');
    assert.deepEqual(edits.map((edit) => edit.range), [range(12, 2, 12, 10), range(16, 12, 16, 20)]);
  });

  void test('a new name must be a valid, unused task name', () => {
    assert.deepEqual(renameAt(model, URI, pos(15, 3), 'report'), { ok: false, reason: 'a task named "report" already exists' });
    const invalid = renameAt(model, URI, pos(15, 3), 'train@new');
    assert.ok(!invalid.ok && /not a task name/.test(invalid.reason));
    assert.equal(renameAt(model, URI, pos(2, 3), 'x').ok, false);
  });
});
