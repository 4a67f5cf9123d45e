/**
 * Errors the user can act on: they carry the message shown to the user (naming the file, line or
 * object and what to do). The CLI prints them and exits 1; the RPC layer answers them as errors.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends UserError {}
