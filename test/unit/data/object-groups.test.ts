/**
 * object-groups.ts on real folders: objects grouped by `<2 hex>` folder in name order, staged only
 * where the folder is missing, and a staging folder that finds its folder made meanwhile (another
 * writer) joins it file by file, losing nothing of either.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { groupByFolder, settleFolder, writeGroup } from '../../../agent/src/data/object-groups';
import { tempDir } from './fixture';

const id = (prefix: string, n: number): string => `${prefix}${String(n).padStart(30, '0')}`;

void describe('object groups', () => {
  void test('groups are runs of one folder in name order, staged only where the folder is missing, existing folders first', (t) => {
    const root = tempDir(t);
    mkdirSync(join(root, 'ab'));
    mkdirSync(join(root, 'ef'));
    const groups = groupByFolder([id('cd', 2), id('ef', 3), id('ab', 1), id('cd', 1), id('ab', 0), id('01', 7)], root);
    assert.deepEqual(groups, [
      { prefix: 'ab', ids: [id('ab', 0), id('ab', 1)], staged: false },
      { prefix: 'ef', ids: [id('ef', 3)], staged: false },
      { prefix: '01', ids: [id('01', 7)], staged: true },
      { prefix: 'cd', ids: [id('cd', 1), id('cd', 2)], staged: true },
    ]);
  });

  void test('a staged group appears under its folder only when written, and no staging folder is left', async (t) => {
    const root = tempDir(t);
    const [group] = groupByFolder([id('ef', 1), id('ef', 2)], root);
    await writeGroup(group!, root, async (into) => {
      assert.ok(into !== undefined);
      for (const object of group!.ids) writeFileSync(join(into, object.slice(2)), object);
      assert.deepEqual(readdirSync(root), [into.slice(root.length + 1)], 'nothing is visible before the group is done');
    });
    assert.deepEqual(readdirSync(root), ['ef']);
    assert.deepEqual(readdirSync(join(root, 'ef')).sort(), [id('ef', 1).slice(2), id('ef', 2).slice(2)]);
  });

  void test('a failed group still settles what it wrote, whole files only', async (t) => {
    const root = tempDir(t);
    const [group] = groupByFolder([id('ef', 1), id('ef', 2)], root);
    await assert.rejects(
      writeGroup(group!, root, async (into) => {
        writeFileSync(join(into!, id('ef', 1).slice(2)), 'done');
        throw new Error('the second object failed');
      }),
      /the second object failed/,
    );
    assert.deepEqual(readdirSync(root), ['ef']);
    assert.equal(readFileSync(join(root, 'ef', id('ef', 1).slice(2)), 'utf8'), 'done');
  });

  void test('a store whose folder cannot be made (a file in the way) gets per-object writes, not a thrown mkdir', async (t) => {
    const parent = tempDir(t);
    const root = join(parent, 'store');
    writeFileSync(root, 'in the way');
    const [group] = groupByFolder([id('ef', 1)], root);
    assert.equal(group!.staged, true);
    const given = await writeGroup(group!, root, async (into) => into);
    assert.equal(given, undefined, 'each object is written (and fails) on its own');
    assert.deepEqual(readdirSync(parent), ['store']);
  });

  void test('a staging folder whose folder appeared meanwhile joins it file by file', (t) => {
    const root = tempDir(t);
    mkdirSync(join(root, 'ab'));
    writeFileSync(join(root, 'ab', 'theirs'), 'another writer');
    mkdirSync(join(root, 'ab.staging.tmp'));
    writeFileSync(join(root, 'ab.staging.tmp', 'ours'), 'this writer');
    settleFolder(join(root, 'ab.staging.tmp'), join(root, 'ab'));
    assert.deepEqual(readdirSync(root), ['ab']);
    assert.deepEqual(readdirSync(join(root, 'ab')).sort(), ['ours', 'theirs']);
  });
});
