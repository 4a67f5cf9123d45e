import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { hoverAt } from '../../../agent/src/dag/features/hover';
import { parseDagModel } from '../../../agent/src/dag/model';
import { Task, Environment } from '../../../schemas/dag';
import { PIPELINE, pos, range } from './fixture';

const model = parseDagModel(PIPELINE);

function hover(line: number, character: number): { markdown: string; range: Hover['range'] } | null {
  const found = hoverAt(model, pos(line, character));
  if (!found) return null;
  return { markdown: (found.contents as MarkupContent).value, range: found.range };
}

void describe('hover', () => {
  void test("a key shows its schema description, at the key's exact range", () => {
    const needs = hover(16, 5);
    assert.deepEqual(needs?.range, range(16, 4, 16, 9));
    assert.ok(needs?.markdown.includes(Task.shape.needs.description!), needs?.markdown);
    assert.match(needs!.markdown, /^\*\*tasks\.<name>\.needs\*\*: string \| string\[\]/);
    const requirements = hover(8, 14);
    assert.deepEqual(requirements?.range, range(8, 12, 8, 24));
    assert.ok(requirements?.markdown.includes('Path of the `requirements.txt`.'));
    const venv = hover(8, 5);
    assert.ok(venv?.markdown.includes(Environment.shape.venv.description!));
  });

  void test('a needs entry shows the task it names (its command), at the entry', () => {
    const need = hover(16, 14);
    assert.deepEqual(need?.range, range(16, 12, 16, 20));
    assert.match(need!.markdown, /^\*\*task\*\* `features`/);
    assert.ok(need!.markdown.includes('python features.py --seed ${params.seed}'));
  });

  void test('one expansion is named as such; a matrix task lists its expansions', () => {
    const expansion = hover(26, 10);
    assert.deepEqual(expansion?.range, range(26, 8, 26, 16));
    assert.match(expansion!.markdown, /^one expansion of `train`/);
    const task = hover(15, 3);
    assert.deepEqual(task?.range, range(15, 2, 15, 7));
    assert.ok(task!.markdown.includes('- expands to `train@rf`, `train@gb`'));
    assert.ok(task!.markdown.includes('- runs in `light`'));
  });

  void test('an environment reference shows the environment', () => {
    const environment = hover(17, 19);
    assert.deepEqual(environment, { markdown: '**environment** `light` (venv)', range: range(17, 17, 17, 22) });
  });

  void test('${params.x} shows the value and who uses it; ${matrix.x} the axis values', () => {
    const param = hover(13, 45);
    assert.deepEqual(param?.range, range(13, 35, 13, 49));
    assert.match(param!.markdown, /^\*\*param\*\* `seed` = `42`\n\nused by `features`/);
    const axis = hover(19, 43);
    assert.deepEqual(axis, { markdown: '**matrix axis** `model` of `train`: `rf`, `gb`', range: range(19, 33, 19, 48) });
  });

  void test('an undefined name says so; blank space shows nothing', () => {
    const broken = parseDagModel('version: 1\ntasks:\n  a:\n    run: echo ${params.nope}\n    needs: [ghost]\n');
    assert.equal((hoverAt(broken, pos(4, 13))?.contents as MarkupContent).value, 'no task named `ghost`');
    assert.equal((hoverAt(broken, pos(3, 25))?.contents as MarkupContent).value, 'no param named `nope`');
    assert.equal(hover(14, 2), null);
  });
});
