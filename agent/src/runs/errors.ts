/** Errors of the runs service the user can act on; each names the run, file or setting and what to do. */
import { UserError } from '../errors';

export class RunNotFoundError extends UserError {
  constructor(prefix: string, location: string) {
    super(`no run ${prefix} in ${location}: list runs with \`mlw runs list\``, { run: prefix });
  }
}

export class AmbiguousRunIdError extends UserError {
  constructor(prefix: string, matches: readonly string[]) {
    super(`run id ${prefix} is ambiguous (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}): give more characters`, {
      run: prefix,
      matches: [...matches],
    });
  }
}

export class RunStoreUnavailableError extends UserError {
  constructor(location: string, cause: string) {
    const hint = /^postgres(ql)?:/.test(location)
      ? 'check the server is up and the connection string (MLW_RUN_STORE) is right, or unset it to use the embedded SQLite store'
      : 'the SQLite store needs the native module better-sqlite3: run `npm rebuild better-sqlite3` in the mlw installation';
    super(`the run store ${location} cannot be opened: ${cause}. ${hint[0]!.toUpperCase()}${hint.slice(1)}`, { location });
  }
}

export class RunStoreTooNewError extends UserError {
  constructor(location: string, found: number, known: number) {
    super(
      `the run store ${location} has schema version ${found}, newer than this mlw knows (${known}): upgrade mlw`,
      { location },
    );
  }
}

export class RunStateError extends UserError {}

export class LaunchError extends UserError {}
