/**
 * The commit history a branch listing walks for ahead/behind and merged: every commit reachable
 * from the listed tips, with its parents, date, author and subject, from one `git rev-list`.
 *
 * Commits never change, so a later listing of the same repository keeps what an earlier one read
 * and asks git only for the commits it has not seen (`extendHistory`): a refresh after a commit or
 * a fetch reads a handful of commits instead of the whole history (~140 ms of git for 10,000
 * commits on the benchmark machine). The one way a commit's parents can change under the same sha
 * is a shallow clone deepened, or grafts: with either file present nothing is reused.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseFormattedRevList, type FormattedHistory } from './ancestry';
import { readGit, type Repo } from './repo';
import { GitCommandError } from './runner';

/**
 * The per-commit line after rev-list's `commit <sha> <parents>` line (no newline can occur: `%s`
 * joins the subject's lines with spaces, an ident never holds one).
 */
const COMMIT_FORMAT = '%ct%x00%an%x00%s';
const COMMIT_HEADER = 'commit ';

/** rev-list's output (two lines per commit, closed under parents) and its parse. */
export interface History {
  readonly text: string;
  readonly parsed: FormattedHistory;
}

/** `too-large`: more commits than the limit; `unavailable`: git could not walk it (a tip that is not a commit, a missing object). */
export type HistoryRead = History | 'too-large' | 'unavailable';

/** Every commit reachable from the tips, unless there are more than `limit`. */
export async function readHistory(repo: Repo, tips: readonly string[], limit: number): Promise<HistoryRead> {
  if (tips.length === 0) return { text: '', parsed: parseFormattedRevList('')! };
  const text = await revList(repo, tips, limit);
  if (text === 'too-large' || text === 'unavailable') return text;
  const parsed = parseFormattedRevList(text);
  return parsed === null ? 'unavailable' : { text, parsed };
}

/**
 * `known` grown to hold every commit reachable from `tips`, reading only what it lacks; undefined
 * when it cannot be (the caller reads the whole history instead). `stops` are commits where the new
 * ones most likely join the known history (what a moved ref pointed at before): the walk ends
 * there. Only known stops are used: everything reachable from one is then known, so the output
 * plus `known` is again closed under parents. Past `limit` commits in all, undefined: a history
 * that grew with each refresh is then read afresh, without the commits of deleted branches.
 */
export async function extendHistory(repo: Repo, known: History, tips: readonly string[], stops: readonly string[], limit: number): Promise<History | undefined> {
  if (historyMayBeRewritten(repo)) return undefined;
  const ids = known.parsed.graph.ids;
  const missing = [...new Set(tips.filter((sha) => !ids.has(sha)))];
  if (missing.length === 0) return ids.size <= limit ? known : undefined;
  const room = limit - ids.size;
  if (room <= 0) return undefined;
  const exclusions = [...new Set(stops)].filter((sha) => ids.has(sha)).map((sha) => `^${sha}`);
  const text = await revList(repo, [...missing, ...exclusions], room);
  if (text === 'too-large' || text === 'unavailable') return undefined;
  // A new commit's parent may be a known commit no stop reaches: rev-list prints it (and its
  // ancestors) again. Only unknown commits are added.
  const merged = `${unknownRecords(text, ids)}${known.text}`;
  const parsed = parseFormattedRevList(merged);
  return parsed === null ? undefined : { text: merged, parsed };
}

/** Shallow clones deepen (a boundary commit gains parents) and grafts rewrite parents: a kept graph could be wrong. */
function historyMayBeRewritten(repo: Repo): boolean {
  return [repo.gitDir, repo.commonDir].some((dir) => existsSync(join(dir, 'shallow')) || existsSync(join(dir, 'info', 'grafts')));
}

/** rev-list's records for `revisions` (shas, `^sha` to exclude), or why there are none. */
async function revList(repo: Repo, revisions: readonly string[], limit: number): Promise<string | 'too-large' | 'unavailable'> {
  let stdout: string;
  try {
    ({ stdout } = await readGit(repo, ['rev-list', '--parents', `--max-count=${limit + 1}`, `--format=${COMMIT_FORMAT}`, '--stdin'], {
      input: `${revisions.join('\n')}\n`,
    }));
  } catch (error) {
    // A tip that is not a commit, a stop since pruned, or a history git cannot walk (a broken or
    // partial clone).
    if (error instanceof GitCommandError) return 'unavailable';
    throw error;
  }
  // Two lines per commit. Counted before parsing: output cut at the limit names parents it does
  // not list, which the parser refuses.
  let lines = 0;
  for (let at = stdout.indexOf('\n'); at !== -1; at = stdout.indexOf('\n', at + 1)) lines++;
  return lines > 2 * limit ? 'too-large' : stdout;
}

/** The records (header and format line) of `text` whose commit is not in `ids`. */
function unknownRecords(text: string, ids: ReadonlyMap<string, number>): string {
  let kept = '';
  for (let at = 0; at < text.length; ) {
    const headerEnd = lineEnd(text, at);
    const recordEnd = lineEnd(text, headerEnd + 1);
    const shaStart = at + COMMIT_HEADER.length;
    const space = text.indexOf(' ', shaStart);
    const sha = text.slice(shaStart, space === -1 || space > headerEnd ? headerEnd : space);
    if (!ids.has(sha)) kept += recordEnd === text.length ? `${text.slice(at)}\n` : text.slice(at, recordEnd + 1);
    at = recordEnd + 1;
  }
  return kept;
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end === -1 ? text.length : end;
}
