/**
 * The runs webviews' page script, run against stand-ins for the three browser globals it touches:
 * it says it is ready, renders a metrics message (keeping live points that overtook it), grows the
 * chart on live points, refuses a malformed message (naming the field) and posts openMetrics when a
 * run link is clicked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

interface Listener {
  (event: { data?: unknown; target?: unknown; preventDefault(): void }): void;
}

void test('the page script: ready, render, live points, refusal of bad messages, clicks', async () => {
  const posted: unknown[] = [];
  const root = { innerHTML: '' };
  let onMessage: Listener | undefined;
  let onClick: Listener | undefined;
  Object.assign(globalThis, {
    acquireVsCodeApi: () => ({ postMessage: (message: unknown) => posted.push(message) }),
    document: {
      getElementById: (id: string) => (id === 'root' ? root : null),
      addEventListener: (_type: string, listener: Listener) => (onClick = listener),
    },
    window: { addEventListener: (_type: string, listener: Listener) => (onMessage = listener) },
  });
  await import('../../../extension/src/webviews/runs-client');
  assert.deepEqual(posted, [{ type: 'ready' }]);
  const send = (data: unknown) => onMessage!({ data, preventDefault: () => undefined });

  // A live point that overtook the extension's answer (read before that point) is kept.
  send({ type: 'points', points: [{ name: 'loss', step: 7, value: 0.1 }] });
  send({
    type: 'metrics',
    run: { id: 'abcd1234', name: 'train', status: 'running' },
    series: [{ name: 'loss', points: [{ step: 0, value: 1 }] }],
  });
  assert.match(root.innerHTML, /data-metric="loss" data-points="2"/);
  send({
    type: 'points',
    points: [
      { name: 'loss', step: 1, value: 0.5 },
      { name: 'acc', step: 1, value: 0.7 },
    ],
  });
  assert.match(root.innerHTML, /data-metric="loss" data-points="3"/);
  assert.match(root.innerHTML, /data-metric="acc" data-points="1"/);
  send({ type: 'status', status: 'succeeded' });
  assert.match(root.innerHTML, /data-status="succeeded"/);

  send({ type: 'points', points: [{ name: 'loss', step: 'two', value: 0.5 }] });
  assert.match(root.innerHTML, /class="error"[^]*points/);

  const link = { getAttribute: (name: string) => (name === 'data-run' ? 'abcd1234' : null) };
  let prevented = false;
  onClick!({ target: { closest: () => link }, preventDefault: () => (prevented = true) });
  assert.ok(prevented);
  assert.deepEqual(posted.at(-1), { type: 'openMetrics', id: 'abcd1234' });
});
