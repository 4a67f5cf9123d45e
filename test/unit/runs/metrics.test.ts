import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsLineParser, readMetricsFile } from '../../../agent/src/runs/metrics';
import { tempDir } from './helpers';

void test('metrics lines: numbers become points at the given step; nested objects flatten; labels are ignored', () => {
  const parser = new MetricsLineParser();
  assert.deepEqual(parser.parse('{"step": 3, "loss": 0.41, "eval": {"acc": 0.9}, "phase": "train", "best": true}'), {
    points: [
      { name: 'loss', step: 3, value: 0.41 },
      { name: 'eval.acc', step: 3, value: 0.9 },
      { name: 'best', step: 3, value: 1 },
    ],
  });
});

void test('metrics lines without a step continue each series from its last step', () => {
  const parser = new MetricsLineParser();
  parser.parse('{"step": 5, "loss": 1}');
  assert.deepEqual(parser.parse('{"loss": 0.5, "lr": 0.1}').points, [
    { name: 'loss', step: 6, value: 0.5 },
    { name: 'lr', step: 0, value: 0.1 },
  ]);
  assert.equal(parser.stepOf('loss'), 6);
});

void test("Python's NaN and Infinity are reported, not recorded; bad lines are skipped with a reason", () => {
  const parser = new MetricsLineParser();
  const nan = parser.parse('{"step": 1, "loss": NaN, "acc": 0.5, "x": -Infinity}');
  assert.deepEqual(nan.points, [{ name: 'acc', step: 1, value: 0.5 }]);
  assert.match(nan.warning ?? '', /not finite.*loss, x/);
  assert.match(parser.parse('{"loss": ').warning ?? '', /metrics line 2 is not JSON/);
  assert.match(parser.parse('[1, 2]').warning ?? '', /not a JSON object/);
  assert.match(parser.parse('{"step": 1.5, "a": 1}').warning ?? '', /"step" must be an integer/);
  assert.deepEqual(parser.parse('   '), { points: [] });
});

void test('a metrics file is read at the end, its values on the step the live series reached', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'm.json'), '{"model": "rf", "accuracy": 0.97, "loss": 0.1}');
  const result = await readMetricsFile(join(dir, 'm.json'), (name) => (name === 'loss' ? 9 : undefined));
  assert.deepEqual(result.points, [
    { name: 'accuracy', step: 0, value: 0.97 },
    { name: 'loss', step: 9, value: 0.1 },
  ]);
  assert.match((await readMetricsFile(join(dir, 'missing.json'), () => undefined)).warning ?? '', /was not written/);
});
