/** Adds `/name` to the .gitignore next to tracked data, as DVC does, so git never sees the data itself. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { temporaryName } from './cache';

function escapeGitignore(name: string): string {
  return name.replace(/[\\*?[\]!# ]/g, (char) => `\\${char}`);
}

export async function ignoreInGit(dataPath: string): Promise<string> {
  const file = join(dirname(dataPath), '.gitignore');
  const line = `/${escapeGitignore(basename(dataPath))}`;
  const previous = await readFile(file, 'utf8').catch(() => '');
  if (previous.split(/\r?\n/).includes(line)) return file;
  const separator = previous === '' || previous.endsWith('\n') ? '' : '\n';
  const temporary = temporaryName(file);
  await writeFile(temporary, `${previous}${separator}${line}\n`);
  await rename(temporary, file);
  return file;
}
