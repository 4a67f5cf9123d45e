/**
 * Finds the DAG files (`*.dag.yaml`, `dag.yaml`) under a folder, honouring every `.gitignore` on
 * the way (each one's patterns relative to its own folder, as git reads them) and never entering
 * `.git` or `node_modules`. Symbolic links are not followed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';

const NEVER_ENTERED = new Set(['.git', 'node_modules']);

export function isDagFileName(name: string): boolean {
  return name === 'dag.yaml' || name.endsWith('.dag.yaml');
}

interface IgnoreRules {
  readonly base: string;
  readonly rules: Ignore;
}

/** Absolute paths of the DAG files under `root`, sorted. */
export async function discoverDagFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const pending: { folder: string; rules: readonly IgnoreRules[] }[] = [{ folder: root, rules: [] }];
  while (pending.length > 0) {
    const { folder, rules: inherited } = pending.pop()!;
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const own = entries.some((entry) => entry.name === '.gitignore' && entry.isFile()) ? await readRules(folder) : undefined;
    const rules = own ? [...inherited, own] : inherited;
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!NEVER_ENTERED.has(entry.name) && !isIgnored(rules, path, true)) pending.push({ folder: path, rules });
      } else if (entry.isFile() && isDagFileName(entry.name) && !isIgnored(rules, path, false)) {
        found.push(path);
      }
    }
  }
  return found.sort();
}

async function readRules(folder: string): Promise<IgnoreRules | undefined> {
  try {
    return { base: folder, rules: ignore().add(await readFile(join(folder, '.gitignore'), 'utf8')) };
  } catch {
    return undefined;
  }
}

function isIgnored(rules: readonly IgnoreRules[], path: string, directory: boolean): boolean {
  return rules.some(({ base, rules: patterns }) => {
    const relativePath = relative(base, path).split(sep).join('/');
    return patterns.ignores(directory ? `${relativePath}/` : relativePath);
  });
}
