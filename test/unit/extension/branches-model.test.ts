/** What the Branches view, its status bar item and quick pick show, and how git error answers are read. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseError } from 'vscode-languageserver';
import type { Branch, BranchList } from '../../../schemas/protocol';
import {
  aheadBehindText,
  branchAccessibilityLabel,
  branchContextValue,
  branchGroups,
  branchIconId,
  branchNameProblem,
  branchPicks,
  branchTooltip,
  gitFailure,
  mergeOutcomeText,
  splitMessage,
  stashOutcomeText,
  statusBarText,
} from '../../../extension/src/views/branches-model';

function branch(name: string, overrides: Partial<Branch> = {}): Branch {
  const remote = overrides.kind === 'remote';
  return {
    name,
    ref: remote ? `refs/remotes/${name}` : `refs/heads/${name}`,
    kind: 'local',
    remote: remote ? 'origin' : null,
    current: false,
    upstream: null,
    upstreamGone: false,
    ahead: null,
    behind: null,
    commit: {
      sha: 'a'.repeat(40),
      shortSha: 'aaaaaaa',
      subject: `tip of ${name}`,
      author: 'Ada',
      date: 0,
      relativeDate: '2 hours ago',
    },
    merged: true,
    ...overrides,
  };
}

const main = branch('main', { current: true, upstream: 'origin/main', ahead: 2, behind: 1 });
const feature = branch('feature/x', { merged: false });
const originMain = branch('origin/main', { kind: 'remote', remote: 'origin' });

function listing(branches: Branch[]): BranchList {
  return {
    root: '/repo',
    head: { kind: 'branch', name: 'main', sha: 'a'.repeat(40) },
    defaultBranch: 'main',
    branches,
  };
}

void describe('Branches view model', () => {
  void test('local and remote groups, each keeping the agent order; no remote group without remote branches', () => {
    const groups = branchGroups(listing([feature, main, originMain]));
    assert.deepEqual(
      groups.map((group) => (group.kind === 'group' ? [group.group, group.branches.map((b) => b.name)] : null)),
      [
        ['local', ['feature/x', 'main']],
        ['remote', ['origin/main']],
      ],
    );
    assert.equal(branchGroups(listing([main])).length, 1);
  });

  void test('ahead/behind reads as arrows, vanishes in step or without upstream, and says when the upstream is gone', () => {
    assert.equal(aheadBehindText(main), '↑2 ↓1');
    assert.equal(aheadBehindText({ ahead: 0, behind: 3, upstreamGone: false }), '↓3');
    assert.equal(aheadBehindText({ ahead: 0, behind: 0, upstreamGone: false }), '');
    assert.equal(aheadBehindText({ ahead: null, behind: null, upstreamGone: false }), '');
    assert.equal(aheadBehindText({ ahead: null, behind: null, upstreamGone: true }), 'upstream gone');
  });

  void test('the tooltip names the upstream state, merged state and the last commit', () => {
    assert.equal(
      branchTooltip(main, 'main'),
      'main (current branch)\n2 commits ahead, 1 behind origin/main\n\naaaaaaa tip of main\nAda, 2 hours ago',
    );
    assert.match(branchTooltip(feature, 'main'), /^feature\/x\nNo upstream.*\nNot merged into main\n/);
    assert.doesNotMatch(branchTooltip(originMain, 'main'), /upstream/i);
  });

  void test('icons and context values tell current, local and remote apart', () => {
    assert.deepEqual(
      [main, feature, originMain].map((b) => [branchIconId(b), branchContextValue(b)]),
      [
        ['check', 'mlw.branch.local.current'],
        ['git-branch', 'mlw.branch.local'],
        ['cloud', 'mlw.branch.remote'],
      ],
    );
  });

  void test('the accessible label says which branch is current', () => {
    assert.match(branchAccessibilityLabel(main), /^main, current branch, ↑2 ↓1, last commit tip of main/);
    assert.doesNotMatch(branchAccessibilityLabel(feature), /current/);
  });

  void test('the status bar shows the branch with ahead/behind, a short sha when detached, and an unborn branch', () => {
    assert.equal(statusBarText(listing([main, feature])), '$(git-branch) main ↑2 ↓1');
    assert.equal(
      statusBarText({ ...listing([feature]), head: { kind: 'detached', sha: 'b'.repeat(40) } }),
      '$(git-commit) bbbbbbb (detached)',
    );
    assert.equal(
      statusBarText({ ...listing([]), head: { kind: 'unborn', name: 'main' } }),
      '$(git-branch) main (no commits)',
    );
  });

  void test('the quick pick lists local branches before remote ones and marks the current one', () => {
    const picks = branchPicks(listing([originMain, feature, main]));
    assert.deepEqual(
      picks.map((pick) => [pick.name, pick.description]),
      [
        ['feature/x', ''],
        ['main', 'current · ↑2 ↓1'],
        ['origin/main', 'remote'],
      ],
    );
    assert.equal(picks[1]?.label, '$(check) main');
    assert.equal(picks[0]?.detail, 'aaaaaaa tip of feature/x — Ada, 2 hours ago');
  });

  void test('branch names typed in are refused when empty, option-like or spaced', () => {
    assert.equal(branchNameProblem('feature/ok'), undefined);
    assert.ok(branchNameProblem('  ') !== undefined);
    assert.ok(branchNameProblem('--upload-pack=x') !== undefined);
    assert.ok(branchNameProblem('two words') !== undefined);
  });
});

void describe('git error answers', () => {
  void test("a ResponseError's data is read as GitErrorData (code and files)", () => {
    const error = new ResponseError(-32600, 'cannot switch to x: 1 file(s) have uncommitted changes', {
      code: 'dirty-tree',
      files: ['a.txt'],
    });
    assert.deepEqual(gitFailure(error), {
      message: 'cannot switch to x: 1 file(s) have uncommitted changes',
      data: { code: 'dirty-tree', files: ['a.txt'] },
    });
  });

  void test('other errors keep their message, with no data', () => {
    assert.deepEqual(gitFailure(new Error('The MLOps agent is not ready (starting).')), {
      message: 'The MLOps agent is not ready (starting).',
      data: null,
    });
    assert.equal(gitFailure(new ResponseError(-32600, 'x', { code: 'not-a-code' })).data, null);
  });

  void test('a message splits into its first line and the file list under it', () => {
    assert.deepEqual(splitMessage('cannot merge:\n  a.txt\n  b.txt'), {
      summary: 'cannot merge:',
      detail: 'a.txt\n  b.txt',
    });
  });

  void test('stash outcomes and merge outcomes read as sentences', () => {
    assert.equal(stashOutcomeText(null), null);
    assert.match(stashOutcomeText({ sha: 'c'.repeat(40), reapplied: true, conflicts: [] }) ?? '', /re-applied/);
    assert.match(
      stashOutcomeText({ sha: 'c'.repeat(40), reapplied: false, conflicts: ['a.txt'] }) ?? '',
      /conflicted in a\.txt; they are kept in stash ccccccc/,
    );
    const head = { kind: 'branch', name: 'main', sha: 'a'.repeat(40) } as const;
    assert.equal(mergeOutcomeText('fast-forward', 'feature/x', head), 'Fast-forwarded main to feature/x.');
    assert.equal(mergeOutcomeText('conflicts', 'feature/x', head), 'Merging feature/x into main stopped on conflicts.');
  });
});
