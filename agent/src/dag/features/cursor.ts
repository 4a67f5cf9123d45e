/**
 * Where the cursor is in a DAG file that is being typed — often not valid YAML yet (`needs: [a, `),
 * so this reads the text around the cursor rather than the AST: the keys above it by indentation,
 * and what precedes it on its line.
 */
import type { DagDocument } from '../document';
import type { Position } from '../types';

export interface CursorContext {
  readonly offset: number;
  readonly position: Position;
  /** The text of the cursor's line before the cursor. */
  readonly linePrefix: string;
  /** The text of the cursor's line after the cursor. */
  readonly lineSuffix: string;
  /** The keys of the mappings enclosing the cursor's line, outermost first (`['tasks', 'train']`). */
  readonly parents: readonly string[];
}

const KEY_LINE = /^(\s*)(?:-\s+)?(["']?)([^\s"':#{}[\],][^"':#{}[\],]*?)\2\s*:(?:\s|$)/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isBlankOrComment(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === '' || trimmed.startsWith('#');
}

/**
 * The keys enclosing line `lineIndex` whose content starts at column `indent`: each key line above
 * with a smaller indent, walking outwards. A `- ` item may sit at its key's own indent (`needs:\n- a`).
 */
export function parentKeys(lines: readonly string[], lineIndex: number, indent: number, isItem: boolean): string[] {
  const parents: string[] = [];
  let limit = indent;
  let allowEqual = isItem;
  for (let index = lineIndex - 1; index >= 0 && limit > 0; index--) {
    const line = lines[index]!;
    if (isBlankOrComment(line)) continue;
    const lineIndent = indentOf(line);
    if (lineIndent > limit || (lineIndent === limit && !allowEqual)) continue;
    const match = KEY_LINE.exec(line);
    if (!match) {
      if (lineIndent < limit && !line.trimStart().startsWith('-')) break;
      continue;
    }
    if (lineIndent === limit && line.slice(lineIndent).startsWith('-')) continue;
    parents.unshift(match[3]!);
    limit = lineIndent;
    allowEqual = false;
  }
  return parents;
}

export function cursorContext(document: DagDocument, position: Position): CursorContext {
  const offset = document.offsetAt(position);
  const clamped = document.positionAt(offset);
  const lineStart = offset - clamped.character;
  const lineEndIndex = document.text.indexOf('\n', offset);
  const lineEnd = lineEndIndex === -1 ? document.text.length : lineEndIndex;
  const linePrefix = document.text.slice(lineStart, offset);
  const lineSuffix = document.text.slice(offset, lineEnd).replace(/\r$/, '');
  const lines = document.text.split('\n');
  const indent = indentOf(linePrefix.trim() === '' ? linePrefix : lines[clamped.line] ?? '');
  const isItem = linePrefix.trimStart().startsWith('-');
  return { offset, position: clamped, linePrefix, lineSuffix, parents: parentKeys(lines, clamped.line, indent, isItem) };
}
