/** Errors of DAG execution the user can act on; each names the file, task or lock and what to do. */
import { UserError } from '../errors';

export class PipelineError extends UserError {}

/** Another living `mlw dag run` holds a lock on outputs this run would write. */
export class OutputsLockedError extends PipelineError {}
