/**
 * DVC's configuration as DVC reads it: `.dvc/config` (committed) overlaid by `.dvc/config.local`
 * (per machine, holds secrets), INI with sections such as `[core]`, `[cache]` and
 * `['remote "name"']`. Only the keys the datasets service uses are interpreted.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'ini';
import { UserError } from '../errors';

export type LinkType = 'reflink' | 'copy' | 'hardlink' | 'symlink';
const LINK_TYPES: readonly LinkType[] = ['reflink', 'copy', 'hardlink', 'symlink'];

export interface RemoteConfig {
  readonly name: string;
  readonly url: string;
  /** Every other key of the remote's section (endpointurl, region, profile, credentials…), as strings. */
  readonly options: Readonly<Record<string, string>>;
}

export interface DataConfig {
  readonly defaultRemote: string | undefined;
  readonly cacheDir: string;
  /** The first of DVC's `cache.type` list; reflink falls back to a copy where the filesystem has none. */
  readonly linkType: LinkType;
  readonly remotes: ReadonlyMap<string, RemoteConfig>;
}

type Sections = Record<string, Record<string, unknown>>;

async function readIni(path: string): Promise<Sections> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const parsed = parse(text) as Record<string, unknown>;
  const sections: Sections = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) sections[name] = value as Record<string, unknown>;
  }
  return sections;
}

function merge(base: Sections, overlay: Sections): Sections {
  const merged: Sections = { ...base };
  for (const [name, values] of Object.entries(overlay)) merged[name] = { ...merged[name], ...values };
  return merged;
}

function asString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}

export function parseLinkType(value: string | undefined, where: string): LinkType {
  if (!value) return 'reflink';
  const first = value.split(',')[0]!.trim();
  if ((LINK_TYPES as readonly string[]).includes(first)) return first as LinkType;
  throw new UserError(`${where}: cache.type ${JSON.stringify(value)} is not one of ${LINK_TYPES.join(', ')}`);
}

export async function readDataConfig(dvcDir: string): Promise<DataConfig> {
  const sections = merge(await readIni(join(dvcDir, 'config')), await readIni(join(dvcDir, 'config.local')));
  const remotes = new Map<string, RemoteConfig>();
  for (const [section, values] of Object.entries(sections)) {
    const match = /^remote\s+"(.+)"$/.exec(section.trim());
    if (!match) continue;
    const name = match[1]!;
    const url = asString(values['url']);
    if (!url) throw new UserError(`${join(dvcDir, 'config')}: remote "${name}" has no url`);
    const options: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
      const text = asString(value);
      if (key !== 'url' && text !== undefined) options[key] = text;
    }
    // DVC resolves a relative local path against the directory of the config file.
    const isLocal = !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || url.startsWith('file://');
    const localPath = url.startsWith('file://') ? url.slice('file://'.length) : url;
    remotes.set(name, { name, url: isLocal && !isAbsolute(localPath) ? resolve(dvcDir, localPath) : url, options });
  }
  const cacheDirSetting = asString(sections['cache']?.['dir']);
  return {
    defaultRemote: asString(sections['core']?.['remote']),
    cacheDir: cacheDirSetting ? resolve(dvcDir, cacheDirSetting) : join(dvcDir, 'cache'),
    linkType: parseLinkType(asString(sections['cache']?.['type']), join(dvcDir, 'config')),
    remotes,
  };
}
