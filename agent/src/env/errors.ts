/** Errors of the environments service: messages name the environment, file or engine and what to do. */
import { UserError } from '../errors';

export class EnvError extends UserError {}

/** The Docker engine could not be reached; the message names where it was looked for. */
export class EngineUnreachableError extends EnvError {}
