/**
 * The git service's errors: a UserError whose details are the protocol's GitErrorData, so the CLI
 * prints the message (exit 1) and the RPC layer answers with `data.code` the editor can act on.
 */
import type { GitErrorCode } from '../../../schemas/protocol/git';
import { UserError } from '../errors';

export class GitError extends UserError {
  constructor(
    readonly code: GitErrorCode,
    message: string,
    readonly files: readonly string[] = [],
    readonly gitMessage?: string,
  ) {
    super(message, { code, files: [...files], ...(gitMessage === undefined ? {} : { gitMessage }) });
  }
}

/** Lists files under a message, a few at a time, so a refusal says exactly what is in the way. */
export function listFiles(files: readonly string[], limit = 20): string {
  const shown = files.slice(0, limit).map((file) => `  ${file}`);
  if (files.length > limit) shown.push(`  … and ${files.length - limit} more`);
  return shown.join('\n');
}
