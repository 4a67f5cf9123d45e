/** Opens the remote named by `--remote` or `core.remote`, by the scheme of its url. */
import { UserError } from '../../errors';
import type { DataConfig } from '../config';
import { DirectoryRemote } from './local';
import { S3Remote } from './s3';
import type { Remote } from './types';

export type { Remote } from './types';

export function openRemote(config: DataConfig, name: string | undefined, configFile: string): Remote {
  const chosen = name ?? config.defaultRemote;
  if (!chosen) {
    throw new UserError(`${configFile}: no remote given and no default (core.remote); add one: dvc remote add -d NAME URL, or [core] remote = NAME`);
  }
  const remote = config.remotes.get(chosen);
  if (!remote) {
    const known = [...config.remotes.keys()];
    throw new UserError(`${configFile}: no remote named "${chosen}"${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
  }
  if (remote.url.startsWith('s3://')) return new S3Remote(remote);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote.url)) {
    throw new UserError(`${configFile}: remote "${chosen}" (${remote.url}): only directory and s3:// remotes are supported`);
  }
  return new DirectoryRemote(chosen, remote.url);
}
