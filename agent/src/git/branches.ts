/**
 * Listing branches. One `git for-each-ref` gives every local and remote-tracking branch with its
 * upstream; one `git rev-list --parents` gives the commit graph and each commit's date, author and
 * subject. The first listing of a repository reads the history after the listing, from the listed
 * tips; later ones (the view's refreshes) read it from `--branches --remotes` at the same time as
 * the listing, and keep that read only if it holds every listed sha and is judged by the same
 * limit — else they read it again from the listed tips, as the first one did. Ahead/behind and
 * merged-into-default come from our own walk over that graph (ancestry.ts): asking git for `%(upstream:track)` makes it run one revision
 * walk per branch, most of the listing's time with thousands of branches. The listing asks for no
 * field that makes git read the commit (`%(subject)`, `%(authorname)`, `%(committerdate)`): the
 * history read inflates every listed commit anyway, and formats it for ~1 µs where for-each-ref
 * pays ~12 µs per ref. All are read-profile calls.
 *
 * Git answers instead, as it did before (`%(upstream:track)`, `--merged=<default branch>`), when the
 * history is longer than the branches justify reading (HISTORY_PER_TRACKED: a long history with few
 * branches is cheaper for git, whose walks stop at the merge bases), or when something the walk
 * needs is not in the graph read (an upstream outside refs/heads and refs/remotes, a ref at a
 * non-commit). A repository found too long is remembered for the agent's lifetime: later listings
 * go straight to git, so only its first listing pays for both (at most the listing and the limit's
 * worth of commits more).
 */
import type { Branch, BranchList } from '../../../schemas/protocol/git';
import { Ancestry, parseFormattedRevList, type FormattedHistory } from './ancestry';
import { relativeDate } from './relative-date';
import { configValue, defaultBranchHints, headState, pickDefaultBranch, readGit, type DefaultBranchHints, type Repo } from './repo';
import { GitCommandError } from './runner';

/** What the walk's listing asks per ref: none of these makes git read the commit. */
const REF_FIELDS = ['%(refname)', '%(HEAD)', '%(objectname)', '%(objectname:short)', '%(upstream)', '%(symref)'] as const;
/** NUL-separated fields, newline-separated records (no ref name holds a control character). */
export const REF_FORMAT = REF_FIELDS.join('%00');
/** The fallback's listing: git's ahead/behind, then the last commit's date, author and subject. */
export const TRACKED_BRANCH_FORMAT = [...REF_FIELDS, '%(upstream:track,nobracket)', '%(committerdate:unix)', '%(authorname)', '%(subject)'].join('%00');
/**
 * The history read's per-commit line, after rev-list's `commit <sha> <parents>` line (no newline
 * can occur: `%s` joins the subject's lines with spaces, an ident never holds one).
 */
const COMMIT_FORMAT = '%ct%x00%an%x00%s';

/**
 * Commits our walk may read: a base, plus this many per branch with an upstream. Git's
 * `%(upstream:track)` costs ~55 µs per such branch on the benchmark machine and reading a commit
 * ~6 µs, so past ~8 commits per tracked branch reading the history costs more than asking git.
 */
const HISTORY_BASE = 1_000;
const HISTORY_PER_TRACKED = 8;

export interface ListOptions {
  readonly includeRemote: boolean;
  /** The clock for relative dates (tests pass a fixed one). */
  readonly now?: number;
  /** Commits our own walk may read (tests set it to exercise the fallback); by default from the ref count. */
  readonly historyLimit?: number;
}

/** Repositories (common dirs) whose history was over the default limit: later listings ask git directly. */
const largeHistories = new Set<string>();

export async function listBranches(repo: Repo, options: ListOptions): Promise<BranchList> {
  if (options.historyLimit !== undefined || !largeHistories.has(repo.commonDir)) {
    const walked = await listBranchesByWalk(repo, options);
    if (walked !== null) return walked;
  }
  return listBranchesFromGit(repo, options);
}

/** A for-each-ref record's REF_FIELDS. */
interface RefRow {
  readonly ref: string;
  readonly current: boolean;
  readonly sha: string;
  readonly shortSha: string;
  readonly upstreamRef: string;
  readonly symref: string;
}

/** A commit's date (unix seconds), author and subject, NUL-separated as git printed them. */
type CommitFields = string;

function records(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

/** indexOf, not split: no array per record, and no string for the HEAD mark. */
function refRow(record: string): RefRow {
  const refEnd = fieldEnd(record, 0);
  const headEnd = fieldEnd(record, refEnd + 1);
  const shaEnd = fieldEnd(record, headEnd + 1);
  const shortEnd = fieldEnd(record, shaEnd + 1);
  const upstreamEnd = fieldEnd(record, shortEnd + 1);
  return {
    ref: record.slice(0, refEnd),
    current: record.charCodeAt(refEnd + 1) === 42 /* '*' */ && headEnd === refEnd + 2,
    sha: record.slice(headEnd + 1, shaEnd),
    shortSha: record.slice(shaEnd + 1, shortEnd),
    upstreamRef: record.slice(shortEnd + 1, upstreamEnd),
    symref: record.slice(upstreamEnd + 1, fieldEnd(record, upstreamEnd + 1)),
  };
}

function fieldEnd(record: string, from: number): number {
  if (from > record.length) return record.length;
  const end = record.indexOf('\0', from);
  return end === -1 ? record.length : end;
}

/** What follows the first `count` fields of a record (after their NULs). */
function afterFields(record: string, count: number): string {
  let at = -1;
  for (let field = 0; field < count; field++) {
    at = record.indexOf('\0', at + 1);
    if (at === -1) return '';
  }
  return record.slice(at + 1);
}

/** Which commits a history read starts from: the listed tips (on stdin), or every branch as git reads the refs. */
type HistoryTips = { readonly kind: 'listed'; readonly shas: readonly string[] } | { readonly kind: 'all-branches' };

/** Every commit reachable from the tips, with its parents and fields, unless there are more than `limit`. */
async function readHistory(repo: Repo, tips: HistoryTips, limit: number): Promise<FormattedHistory | 'too-large' | 'unavailable'> {
  if (tips.kind === 'listed' && tips.shas.length === 0) return parseFormattedRevList('')!;
  const walk = ['rev-list', '--parents', `--max-count=${limit + 1}`, `--format=${COMMIT_FORMAT}`];
  let stdout: string;
  try {
    ({ stdout } =
      tips.kind === 'listed'
        ? await readGit(repo, [...walk, '--stdin'], { input: `${tips.shas.join('\n')}\n` })
        : await readGit(repo, [...walk, '--branches', '--remotes']));
  } catch (error) {
    // A tip that is not a commit, or a history git cannot walk (a missing object in a broken or
    // partial clone): git answers per ref.
    if (error instanceof GitCommandError) return 'unavailable';
    throw error;
  }
  // Two lines per commit. Counted before parsing: output cut at the limit names parents it does
  // not list, which the parser refuses.
  let lines = 0;
  for (let at = stdout.indexOf('\n'); at !== -1; at = stdout.indexOf('\n', at + 1)) lines++;
  if (lines > 2 * limit) return 'too-large';
  return parseFormattedRevList(stdout) ?? 'unavailable';
}

/**
 * What the last listing of a repository (by common dir) found: the next listing reads the history
 * and the configured default branch beside the ref listing instead of after it (two processes on
 * two cores), then checks that read against what its own listing says.
 */
interface PreviousListing {
  readonly historyLimit: number;
  readonly needsConfiguredDefault: boolean;
}
const previousListings = new Map<string, PreviousListing>();

/** Reads started before the listing; `earlyHistoryFits` decides, once the listing is known, whether the history stands. */
interface EarlyReads {
  readonly history: Promise<FormattedHistory | 'too-large' | 'unavailable'>;
  readonly historyLimit: number;
  readonly hints: Promise<DefaultBranchHints> | undefined;
}

function startEarlyReads(repo: Repo, options: ListOptions): EarlyReads | undefined {
  if (options.historyLimit !== undefined) return undefined;
  const previous = previousListings.get(repo.commonDir);
  if (previous === undefined) return undefined;
  const history = readHistory(repo, { kind: 'all-branches' }, previous.historyLimit);
  const hints = previous.needsConfiguredDefault ? configuredDefault(repo) : undefined;
  // Either may go unawaited (the listing failed, or no longer needs the hints): never unhandled.
  history.catch(() => undefined);
  hints?.catch(() => undefined);
  return { history, historyLimit: previous.historyLimit, hints };
}

/** The early read when it fits this listing, else a read of the listed tips. */
async function historyOfListing(
  repo: Repo,
  early: EarlyReads | undefined,
  limit: number,
  rows: readonly RefRow[],
): Promise<FormattedHistory | 'too-large' | 'unavailable'> {
  if (early !== undefined) {
    const read = await early.history;
    if (earlyHistoryFits(read, early.historyLimit, limit, rows)) return read;
  }
  // Not deduplicated: rev-list skips a tip it has seen for less than a Set costs here.
  return readHistory(repo, { kind: 'listed', shas: rows.map((row) => row.sha) }, limit);
}

/**
 * The early read stands when it answers for exactly this listing: every listed sha in its graph
 * (no ref moved between the two reads) and the same verdict on size as a read with `limit` would give.
 */
function earlyHistoryFits(
  early: FormattedHistory | 'too-large' | 'unavailable',
  earlyLimit: number,
  limit: number,
  rows: readonly RefRow[],
): early is FormattedHistory | 'too-large' {
  if (early === 'unavailable') return false;
  if (early === 'too-large') return earlyLimit >= limit;
  if (early.graph.ids.size > limit) return false;
  return rows.every((row) => early.graph.ids.has(row.sha));
}

/**
 * The listing with our own ahead/behind and merged walk; null when git must answer instead.
 * Exported, like listBranchesFromGit, for the differential test that holds the two equal.
 */
export async function listBranchesByWalk(repo: Repo, options: ListOptions): Promise<BranchList | null> {
  const early = startEarlyReads(repo, options);
  // Remote-tracking branches are listed even when not shown: they are the upstreams' values.
  const listing = await readGit(repo, ['for-each-ref', `--format=${REF_FORMAT}`, '--end-of-options', 'refs/heads', 'refs/remotes']);
  const rows = records(listing.stdout).map(refRow);
  const tracked = rows.filter((row) => row.upstreamRef !== '').length;
  const limit = options.historyLimit ?? HISTORY_BASE + HISTORY_PER_TRACKED * tracked;
  // HEAD and origin/HEAD come from the listing when it shows them (each git process costs ~15 ms
  // here, reading the config of 5,000 branches); else as repo.ts reads them, beside the history.
  const current = rows.find((row) => row.current);
  const originHead = rows.find((row) => row.ref === 'refs/remotes/origin/HEAD')?.symref ?? '';
  // init.defaultBranch only matters without origin/HEAD. The listing shows origin/HEAD whenever
  // `git symbolic-ref` would, but when its target is gone: then it is ignored, as the listing does.
  const needsConfiguredDefault = !originHead.startsWith('refs/remotes/origin/');
  if (options.historyLimit === undefined) previousListings.set(repo.commonDir, { historyLimit: limit, needsConfiguredDefault });
  const [history, head, hints] = await Promise.all([
    historyOfListing(repo, early, limit, rows),
    current === undefined ? headState(repo) : ({ kind: 'branch', name: current.ref.slice('refs/heads/'.length), sha: current.sha } as const),
    needsConfiguredDefault ? (early?.hints ?? configuredDefault(repo)) : { originHead, configured: undefined },
  ]);
  if (history === 'too-large' && options.historyLimit === undefined) largeHistories.add(repo.commonDir);
  if (typeof history === 'string') return null;
  const ancestry = new Ancestry(history.graph);
  const shaOf = new Map(rows.map((row) => [row.ref, row.sha]));
  const localNames = { has: (name: string): boolean => shaOf.has(`refs/heads/${name}`) };
  const defaultName = pickDefaultBranch(hints, localNames);

  let mergedInto: Uint8Array | null = null;
  if (defaultName !== null) {
    const defaultSha = shaOf.get(localNames.has(defaultName) ? `refs/heads/${defaultName}` : `refs/remotes/${defaultName}`);
    const defaultId = defaultSha === undefined ? undefined : ancestry.id(defaultSha);
    if (defaultId === undefined) return null;
    mergedInto = ancestry.reachableFrom(defaultId);
  }

  const now = options.now ?? Date.now();
  const branches: Branch[] = [];
  for (const row of rows) {
    if (row.symref !== '') continue;
    const local = row.ref.startsWith('refs/heads/');
    if (!local && !options.includeRemote) continue;
    const id = ancestry.id(row.sha);
    if (id === undefined) return null;
    let ahead: number | null = null;
    let behind: number | null = null;
    let gone = false;
    if (row.upstreamRef !== '') {
      if (!row.upstreamRef.startsWith('refs/heads/') && !row.upstreamRef.startsWith('refs/remotes/')) return null;
      const upstreamSha = shaOf.get(row.upstreamRef);
      if (upstreamSha === undefined) {
        gone = true;
      } else {
        const upstreamId = ancestry.id(upstreamSha);
        if (upstreamId === undefined) return null;
        ({ ahead, behind } = ancestry.aheadBehind(id, upstreamId));
      }
    }
    const branch = toBranch(row, history.formatted(id), { ahead, behind, gone }, now);
    if (mergedInto !== null) branch.merged = mergedInto[id] === 1;
    branches.push(branch);
  }
  return { root: repo.root, head, defaultBranch: defaultName, branches };
}

async function configuredDefault(repo: Repo): Promise<DefaultBranchHints> {
  return { originHead: '', configured: await configValue(repo, 'init.defaultBranch') };
}

/** The listing as git computes it: `%(upstream:track)` per branch, `--merged` for the merged check. */
export async function listBranchesFromGit(repo: Repo, options: ListOptions): Promise<BranchList> {
  const patterns = options.includeRemote ? ['refs/heads', 'refs/remotes'] : ['refs/heads'];
  // The merged-or-not check does not need the full listing (whose ahead/behind counts are most of
  // the time): it runs beside it, on the other core, from a plain list of local branch names.
  const [listing, head, mergedInfo] = await Promise.all([
    readGit(repo, ['for-each-ref', `--format=${TRACKED_BRANCH_FORMAT}`, '--end-of-options', ...patterns]),
    headState(repo),
    mergedIntoDefault(repo, patterns),
  ]);
  const now = options.now ?? Date.now();
  const branches = parseBranches(listing.stdout, now);
  if (mergedInfo.merged) for (const branch of branches) branch.merged = mergedInfo.merged.has(branch.ref);
  return { root: repo.root, head, defaultBranch: mergedInfo.defaultName, branches };
}

async function mergedIntoDefault(repo: Repo, patterns: readonly string[]): Promise<{ defaultName: string | null; merged: Set<string> | null }> {
  const { stdout } = await readGit(repo, ['for-each-ref', '--format=%(refname)', '--end-of-options', 'refs/heads']);
  const localNames = new Set(
    stdout
      .split('\n')
      .filter((line) => line.startsWith('refs/heads/'))
      .map((line) => line.slice('refs/heads/'.length)),
  );
  const hints = await defaultBranchHints(repo);
  let defaultName = pickDefaultBranch(hints, localNames);
  if (defaultName !== null && !localNames.has(defaultName) && !(await commitExists(repo, `refs/remotes/${defaultName}`))) {
    // origin/HEAD names a branch the remote deleted: decided as if it were absent (as the walk
    // does), since `--merged` of a missing ref fails the whole listing.
    defaultName = pickDefaultBranch({ ...hints, originHead: '' }, localNames);
  }
  if (defaultName === null) return { defaultName, merged: null };
  const fullRef = localNames.has(defaultName) ? `refs/heads/${defaultName}` : `refs/remotes/${defaultName}`;
  return { defaultName, merged: await mergedRefs(repo, fullRef, patterns) };
}

async function commitExists(repo: Repo, fullRef: string): Promise<boolean> {
  const { stdout } = await readGit(repo, ['rev-parse', '-q', '--verify', '--end-of-options', `${fullRef}^{commit}`], { okCodes: [1] });
  return stdout.trim() !== '';
}

async function mergedRefs(repo: Repo, fullRef: string, patterns: readonly string[]): Promise<Set<string>> {
  const { stdout } = await readGit(repo, ['for-each-ref', '--format=%(refname)', `--merged=${fullRef}`, '--end-of-options', ...patterns]);
  return new Set(stdout.split('\n').filter((line) => line !== ''));
}

/** Parses TRACKED_BRANCH_FORMAT records (git's ahead/behind); skips symbolic refs (origin/HEAD). */
export function parseBranches(stdout: string, now: number): Branch[] {
  const branches: Branch[] = [];
  for (const record of records(stdout)) {
    const row = refRow(record);
    if (row.symref !== '') continue;
    const [track = ''] = afterFields(record, REF_FIELDS.length).split('\0', 1);
    branches.push(toBranch(row, afterFields(record, REF_FIELDS.length + 1), parseTrack(track, row.upstreamRef !== ''), now));
  }
  return branches;
}

function toBranch(row: RefRow, commit: CommitFields, track: { ahead: number | null; behind: number | null; gone: boolean }, now: number): Branch {
  const local = row.ref.startsWith('refs/heads/');
  const name = local ? row.ref.slice('refs/heads/'.length) : row.ref.slice('refs/remotes/'.length);
  const { unix, author, subject } = commitFields(commit);
  const date = Number(unix) * 1000;
  return {
    name,
    ref: row.ref,
    kind: local ? 'local' : 'remote',
    remote: local ? null : name.slice(0, name.indexOf('/')),
    current: row.current,
    upstream: row.upstreamRef === '' ? null : shortRef(row.upstreamRef),
    upstreamGone: track.gone,
    ahead: track.ahead,
    behind: track.behind,
    commit: { sha: row.sha, shortSha: row.shortSha, subject, author, date, relativeDate: relativeDate(date, now) },
    merged: null,
  };
}

/** indexOf, not split and a rest pattern: 10× faster, and this runs per branch. */
function commitFields(commit: CommitFields): { unix: string; author: string; subject: string } {
  const afterUnix = commit.indexOf('\0');
  if (afterUnix === -1) return { unix: commit, author: '', subject: '' };
  const afterAuthor = commit.indexOf('\0', afterUnix + 1);
  if (afterAuthor === -1) return { unix: commit.slice(0, afterUnix), author: commit.slice(afterUnix + 1), subject: '' };
  // Should a subject ever hold a NUL, the rest is still the subject.
  return { unix: commit.slice(0, afterUnix), author: commit.slice(afterUnix + 1, afterAuthor), subject: commit.slice(afterAuthor + 1) };
}

/** `%(upstream:track,nobracket)`: "", "gone", "ahead 2", "behind 3", "ahead 2, behind 3". */
export function parseTrack(track: string, hasUpstream: boolean): { ahead: number | null; behind: number | null; gone: boolean } {
  if (!hasUpstream) return { ahead: null, behind: null, gone: false };
  if (track === 'gone') return { ahead: null, behind: null, gone: true };
  const ahead = /ahead (\d+)/.exec(track);
  const behind = /behind (\d+)/.exec(track);
  return { ahead: ahead ? Number(ahead[1]) : 0, behind: behind ? Number(behind[1]) : 0, gone: false };
}

function shortRef(ref: string): string {
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/remotes/')) return ref.slice('refs/remotes/'.length);
  return ref;
}
