/**
 * Pointer files (`PATH.dvc`) in DVC 3's format:
 *
 *     outs:
 *     - md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir
 *       size: 21515
 *       nfiles: 5
 *       hash: md5
 *       path: data
 *
 * Read with positions so a broken file is reported at its line; rewritten through the same YAML
 * document so keys we do not own (desc, meta, remote, comments) survive an update.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors';
import { DIR_MD5_PATTERN, MD5_PATTERN } from './hashing';
import { checkRelpath } from './safety';
import { temporaryName } from './cache';

export const PointerOut = z
  .object({
    md5: z.string().refine((value) => MD5_PATTERN.test(value) || DIR_MD5_PATTERN.test(value), '32 hex digits, or 32 hex digits + ".dir"'),
    size: z.number().int().min(0).optional(),
    nfiles: z.number().int().min(0).optional(),
    hash: z.literal('md5', { message: 'DVC 3 writes `hash: md5` (a file without it was written by DVC 2: run `dvc cache migrate --dvc-files`)' }),
    path: z.string().min(1),
  })
  .passthrough();

const PointerFile = z.object({ outs: z.array(PointerOut).length(1, 'one output per pointer file') }).passthrough();

export interface Pointer {
  /** Absolute path of the `.dvc` file. */
  readonly file: string;
  readonly md5: string;
  readonly size: number | undefined;
  readonly nfiles: number | undefined;
  /** As written in the file (relative to the file's folder, '/'-separated). */
  readonly path: string;
  /** Absolute path of the tracked data. */
  readonly dataPath: string;
  readonly isDirectory: boolean;
}

export function pointerFileFor(dataPath: string): string {
  return `${dataPath}.dvc`;
}

function lineOf(lineCounter: LineCounter, offset: number | undefined): number {
  return offset === undefined ? 1 : lineCounter.linePos(offset).line;
}

/** Parses a pointer's text; `file` names it in errors (with the line of the offending node). */
export function parsePointer(text: string, file: string): Pointer {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  const problem = document.errors[0];
  if (problem) {
    throw new UserError(`${file}:${lineOf(lineCounter, problem.pos[0])}: not valid YAML: ${problem.message.split('\n')[0]}`);
  }
  const parsed = PointerFile.safeParse(document.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const node = nodeAt(document, issue.path as (string | number)[]);
    const where = issue.path.length > 0 ? issue.path.join('.') : 'the file';
    throw new UserError(`${file}:${lineOf(lineCounter, node?.range?.[0])}: ${where}: ${issue.message}`);
  }
  const out = parsed.data.outs[0]!;
  checkRelpath(out.path, file);
  const dataPath = join(dirname(file), ...out.path.split('/'));
  return {
    file,
    md5: out.md5,
    size: out.size,
    nfiles: out.nfiles,
    path: out.path,
    dataPath,
    isDirectory: out.md5.endsWith('.dir'),
  };
}

function nodeAt(document: Document, path: (string | number)[]): { range?: [number, number, number] | null } | undefined {
  // The deepest node that exists along the path, so a missing key points at its parent mapping.
  for (let length = path.length; length >= 0; length--) {
    const node = document.getIn(path.slice(0, length), true) as { range?: [number, number, number] | null } | undefined;
    if (node && typeof node === 'object' && 'range' in node) return node;
  }
  return undefined;
}

export async function readPointer(file: string): Promise<Pointer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${file}: no such pointer file (is the path tracked? mlw data add PATH)`);
    throw error;
  }
  return parsePointer(text, file);
}

export interface PointerValues {
  readonly md5: string;
  readonly size: number;
  readonly nfiles?: number;
}

/** The text of a pointer for `dataPath`, updating `previous` (keeping its other keys) if given. */
export function renderPointer(dataPath: string, values: PointerValues, previous?: string): string {
  const document = previous ? parseDocument(previous) : undefined;
  const outs = document?.get('outs');
  const out = isSeq(outs) ? outs.items[0] : undefined;
  if (document && isMap(out)) {
    out.set('md5', values.md5);
    out.set('size', values.size);
    if (values.nfiles !== undefined) out.set('nfiles', values.nfiles);
    else out.delete('nfiles');
    out.set('hash', 'md5');
    out.set('path', basename(dataPath));
    return document.toString();
  }
  const lines = ['outs:', `- md5: ${values.md5}`, `  size: ${values.size}`];
  if (values.nfiles !== undefined) lines.push(`  nfiles: ${values.nfiles}`);
  lines.push('  hash: md5', `  path: ${yamlScalar(basename(dataPath))}`);
  return `${lines.join('\n')}\n`;
}

function yamlScalar(value: string): string {
  return parseDocument(value).toJS() === value && /^[\w.\- ]+$/.test(value) && !/^\s|\s$/.test(value) ? value : JSON.stringify(value);
}

/** Writes `dataPath.dvc` atomically (temp + rename); keeps the keys of an existing pointer. */
export async function writePointer(dataPath: string, values: PointerValues): Promise<string> {
  const file = pointerFileFor(dataPath);
  const previous = await readFile(file, 'utf8').catch(() => undefined);
  const temporary = temporaryName(file);
  await writeFile(temporary, renderPointer(dataPath, values, previous));
  await rename(temporary, file);
  return file;
}
