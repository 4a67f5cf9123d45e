/** Temp workspaces for the datasets tests: real files, real git, python3 as an independent oracle of DVC's hashes. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '../../../agent/src/context';

export const quietLog: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'mlw-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeTree(root: string, files: Record<string, string>): void {
  for (const [relpath, content] of Object.entries(files)) {
    const path = join(root, ...relpath.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

/** Nested folders, an empty file, names with spaces, accents, CJK and an astral-plane emoji. */
export const awkwardTree: Record<string, string> = {
  'top.csv': 'a,b\n1,2\n',
  'empty.txt': '',
  'nested/deeper/deepest/leaf.bin': 'leaf',
  'with space/file name.txt': 'spaces',
  'ünïcödé/naïve café.txt': 'accents',
  '日本語/データ.txt': 'cjk',
  'emoji/😀 smile.txt': 'astral',
  'emoji/\uffee-high-bmp.txt': 'bmp',
};

/**
 * What DVC 3 computes for a folder, by Python: md5 of every file, the listing sorted by relpath,
 * json.dumps(sort_keys=True), md5 + '.dir'. Independent of our code.
 */
export function pythonDvcHash(folder: string): { md5: string; listing: string; files: Record<string, string> } {
  const script = `
import hashlib, json, os, sys
root = sys.argv[1]
entries = []
for dirpath, dirnames, filenames in os.walk(root):
    for name in filenames:
        full = os.path.join(dirpath, name)
        with open(full, 'rb') as f:
            md5 = hashlib.md5(f.read()).hexdigest()
        entries.append({'md5': md5, 'relpath': os.path.relpath(full, root).replace(os.sep, '/')})
entries.sort(key=lambda e: e['relpath'])
text = json.dumps(entries, sort_keys=True)
print(json.dumps({'md5': hashlib.md5(text.encode()).hexdigest() + '.dir', 'listing': text, 'files': {e['relpath']: e['md5'] for e in entries}}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, folder], { encoding: 'utf8' })) as { md5: string; listing: string; files: Record<string, string> };
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}
