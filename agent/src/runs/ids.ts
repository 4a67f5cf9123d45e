import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A new run id: 12 hex characters, typed by prefix on the command line like git and docker ids. */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

/** Who supervises a run: this process on this host (recovery checks whether it still lives). */
export function currentOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Whether the process named by an owner string still runs. An owner on another host (a shared
 * store) is assumed alive: only its own host can tell.
 */
export function ownerIsAlive(owner: string | null): boolean {
  if (!owner) return false;
  const separator = owner.lastIndexOf(':');
  const host = owner.slice(0, separator);
  const pid = Number(owner.slice(separator + 1));
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
