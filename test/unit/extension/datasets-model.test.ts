/** The Datasets view's vscode-free pieces: states, descriptions, tooltips, versions, file browser rows, progress text, which file events matter. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DatasetFileEntry, DatasetFiles, DatasetStatus } from '../../../schemas/protocol/data';
import {
  concernsDatasets,
  datasetDescription,
  datasetStates,
  datasetTooltip,
  diffRows,
  fileRows,
  FILES_PER_FOLDER,
  formatSize,
  isForceable,
  isNotCached,
  transferProgressText,
  transferSummary,
  versionLabel,
} from '../../../extension/src/views/datasets-model';

function status(overrides: Partial<DatasetStatus> = {}): DatasetStatus {
  return {
    path: 'data/images',
    pointerFile: 'data/images.dvc',
    md5: 'aaaabbbbccccddddeeeeffff00001111.dir',
    size: 3 * 1024 * 1024,
    nfiles: 1200,
    workspace: 'clean',
    changes: null,
    cache: 'complete',
    missingObjects: null,
    remote: null,
    notPushed: null,
    ...overrides,
  };
}

void describe('dataset states', () => {
  void test('clean when nothing applies; otherwise every state that applies, most pressing first', () => {
    assert.deepEqual(datasetStates(status()), ['clean']);
    assert.deepEqual(datasetStates(status({ remote: 'origin', notPushed: 0 })), ['clean']);
    assert.deepEqual(datasetStates(status({ workspace: 'modified', notPushed: 3, remote: 'origin' })), [
      'modified',
      'not-pushed',
    ]);
    assert.deepEqual(datasetStates(status({ workspace: 'missing', cache: 'incomplete', missingObjects: 2 })), [
      'not-in-workspace',
      'not-in-cache',
    ]);
    assert.deepEqual(datasetStates(status({ cache: 'unknown' })), ['not-in-cache']);
  });

  void test('the description joins the states with the size and file count', () => {
    assert.equal(datasetDescription(status()), 'clean · 3.0 MB · 1,200 files');
    assert.equal(
      datasetDescription(status({ workspace: 'modified', size: 512, nfiles: null, notPushed: 1, remote: 'r' })),
      'modified, not pushed · 512 B',
    );
    assert.equal(datasetDescription(status({ size: null, nfiles: null })), 'clean');
  });

  void test('the tooltip lists changed files (at most ten) and what is missing where', () => {
    const added = Array.from({ length: 9 }, (_, index) => `new-${index}.png`);
    const tooltip = datasetTooltip(
      status({
        workspace: 'modified',
        changes: { added, removed: ['old.png'], modified: ['a.png', 'b.png'] },
        cache: 'incomplete',
        missingObjects: 2,
        remote: 'storage',
        notPushed: 1,
      }),
    ).split('\n');
    assert.equal(tooltip[0], 'data/images (data/images.dvc, md5 aaaabbbbccccddddeeeeffff00001111.dir)');
    assert.equal(tooltip[2], 'Files: 9 added, 1 removed, 2 changed');
    assert.equal(tooltip[3], '+ new-0.png');
    assert.equal(tooltip[12], '- old.png');
    assert.equal(tooltip[13], '… and 2 more');
    assert.deepEqual(tooltip.slice(14), ['2 objects missing from the cache', '1 object not on remote storage']);
  });
});

void describe('sizes, versions and transfers', () => {
  void test('sizes in powers of 1024', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 10 * 1024 * 1024, 5 * 1024 ** 3].map(formatSize), [
      '0 B',
      '1023 B',
      '1.0 KB',
      '1.5 KB',
      '10 MB',
      '5.0 GB',
    ]);
  });

  void test('a version row is the subject, then hash, date, author and size; a deleted pointer says so', () => {
    const version = {
      commit: '0123456789abcdef0123456789abcdef01234567',
      date: '2026-11-20T10:00:00+01:00',
      author: 'Ada',
      message: 'More images\n\nfrom the second camera',
      md5: 'x.dir',
      size: 2048,
      nfiles: 2,
    };
    assert.deepEqual(versionLabel(version), {
      label: 'More images',
      description: '01234567 · 2026-11-20 · Ada · 2.0 KB · 2 files',
    });
    assert.deepEqual(versionLabel({ ...version, message: '', md5: null, size: null, nfiles: null }), {
      label: '01234567',
      description: '01234567 · 2026-11-20 · Ada · deleted',
    });
  });

  void test('a diff lists added, removed and changed files, in that order', () => {
    assert.deepEqual(diffRows({ added: ['n.png'], removed: ['o.png'], modified: ['m.png', 'k.png'] }), [
      { label: '$(diff-added) n.png', description: 'added since' },
      { label: '$(diff-removed) o.png', description: 'removed since' },
      { label: '$(diff-modified) m.png', description: 'changed since' },
      { label: '$(diff-modified) k.png', description: 'changed since' },
    ]);
    assert.deepEqual(diffRows({ added: [], removed: [], modified: [] }), []);
  });

  void test('progress and summary lines', () => {
    assert.equal(
      transferProgressText({
        files: 1200,
        totalFiles: 15000,
        bytes: 2048,
        totalBytes: 4096,
        bytesPerSecond: 1024 * 1024,
      }),
      '1,200/15,000 files · 2.0 KB of 4.0 KB · 1.0 MB/s',
    );
    assert.equal(
      transferProgressText({ files: 0, totalFiles: 3, bytes: 0, totalBytes: null, bytesPerSecond: 0 }),
      '0/3 files · 0 B',
    );
    assert.equal(
      transferSummary('pushed', {
        remote: 'storage',
        transferred: 3,
        skipped: 10,
        bytes: 3072,
        failed: [{ md5: 'x', error: 'denied' }],
      }),
      '3 objects pushed (3.0 KB), 10 already there, remote storage; 1 failed (first: denied)',
    );
  });
});

void describe('which file events refresh the view', () => {
  const paths = ['data/images', 'model.bin'];

  void test('pointer files and anything inside a tracked path; not the cache, git, or look-alike names', () => {
    assert.equal(concernsDatasets('data/images.dvc', paths), true);
    assert.equal(concernsDatasets('new.dvc', paths), true);
    assert.equal(concernsDatasets('data/images/cat/1.png', paths), true);
    assert.equal(concernsDatasets('model.bin', paths), true);
    assert.equal(concernsDatasets('data/images-old/1.png', paths), false);
    assert.equal(concernsDatasets('.dvc/cache/files/md5/aa/bb', paths), false);
    assert.equal(concernsDatasets('.git/index', paths), false);
    assert.equal(concernsDatasets('src/train.py', paths), false);
  });

  void test('a refusal that --force overrides is recognised', () => {
    assert.equal(
      isForceable('data: checkout would overwrite or remove 2 file(s) …; add them first or use --force'),
      true,
    );
    assert.equal(isForceable('data: 3 object(s) are not in the cache; fetch them first'), false);
    assert.equal(
      isNotCached('data: 3 object(s) are not in the cache (first: ab12); fetch them first (mlw data fetch data)'),
      true,
    );
    assert.equal(
      isNotCached(
        'data: checkout would overwrite or remove 2 file(s) whose content is not in the cache (a); add them first or use --force',
      ),
      false,
    );
    assert.equal(
      isNotCached('data: its listing x.dir is not in the cache; fetch it first (mlw data fetch data)'),
      true,
    );
  });
});

void describe('the file browser', () => {
  const file = (overrides: Partial<DatasetFileEntry> = {}): DatasetFileEntry => ({
    name: 'cat é.png',
    relpath: 'raw images/cat é.png',
    path: 'data/raw images/cat é.png',
    isDirectory: false,
    size: 1536,
    md5: '0123456789abcdef0123456789abcdef',
    nfiles: null,
    workspace: 'clean',
    ...overrides,
  });
  const folder: DatasetFileEntry = {
    name: 'nested',
    relpath: 'raw images/nested',
    path: 'data/raw images/nested',
    isDirectory: true,
    size: null,
    md5: null,
    nfiles: 1,
    workspace: null,
  };
  const listing = (entries: DatasetFileEntry[], total = entries.length): DatasetFiles => ({
    path: 'data',
    md5: 'aaaabbbbccccddddeeeeffff00001111.dir',
    rev: null,
    folder: 'raw images',
    total,
    entries,
  });

  void test('a folder shows its file count; a clean file its size, its md5 in the tooltip, and opens on click', () => {
    const [folderRow, fileRow] = fileRows(listing([folder, file()]));
    assert.deepEqual(folderRow, {
      kind: 'folder',
      entry: folder,
      label: 'nested',
      description: '1 file',
      tooltip: 'data/raw images/nested\n1 file',
      accessibilityLabel: 'folder nested, 1 file',
      opens: false,
    });
    assert.deepEqual(fileRow, {
      kind: 'file',
      entry: file(),
      label: 'cat é.png',
      description: '1.5 KB',
      tooltip:
        'data/raw images/cat é.png\nmd5 0123456789abcdef0123456789abcdef\n1,536 bytes\nWorkspace: the workspace file matches',
      accessibilityLabel: 'file cat é.png, 1.5 KB',
      opens: true,
    });
  });

  void test('a file not in the workspace does not open; modified and uncached files say so; an empty file is 0 B', () => {
    const rows = fileRows(
      listing([
        file({ workspace: 'missing' }),
        file({ workspace: 'modified', size: 0 }),
        file({ workspace: 'unknown', size: null }),
      ]),
    );
    assert.deepEqual(
      rows.map((row) => (row.kind === 'more' ? row.label : [row.description, row.opens, row.accessibilityLabel])),
      [
        ['1.5 KB · not in workspace', false, 'file cat é.png, 1.5 KB, not in workspace'],
        ['0 B · modified', true, 'file cat é.png, 0 B, modified'],
        ['', true, 'file cat é.png, size unknown (not in the cache)'],
      ],
    );
    const uncached = rows[2]!;
    assert.ok(uncached.kind === 'file');
    assert.match(
      uncached.tooltip,
      /size unknown \(not in the cache\)\nWorkspace: the workspace file changed since it was last hashed/,
    );
  });

  void test('a folder the agent capped ends in a "… N more" row that says how to list everything', () => {
    const entries = Array.from({ length: FILES_PER_FOLDER }, (_, index) => file({ name: `f${index}` }));
    const rows = fileRows(listing(entries, 12_345));
    assert.equal(rows.length, FILES_PER_FOLDER + 1);
    assert.deepEqual(rows.at(-1), {
      kind: 'more',
      label: '… 11,345 more',
      tooltip:
        'Only the first 1,000 of 12,345 entries are shown; mlw data ls data "raw images" --limit 12345 lists them all.',
    });
    assert.equal(fileRows(listing([file()])).length, 1, 'no such row when nothing was left out');
  });
});
