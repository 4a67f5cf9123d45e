/**
 * The DAG service's public vocabulary. Positions are 0-based lines and UTF-16 columns, as in LSP,
 * so the server can hand them over unchanged; the CLI prints them 1-based.
 */
export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Position {
  readonly line: number;
  readonly character: number;
}

export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export type DiagnosticCode =
  | 'yaml-syntax'
  | 'duplicate-key'
  | 'schema'
  | 'cycle'
  | 'unknown-need'
  | 'unknown-environment'
  | 'output-conflict'
  | 'missing-input'
  | 'undefined-param'
  | 'undefined-matrix'
  | 'unused-param'
  | 'too-large'
  /** A bug of ours met while validating: reported as one diagnostic instead of a crash. */
  | 'internal-error';

export interface DagDiagnostic {
  readonly range: Range;
  readonly severity: Severity;
  readonly message: string;
  readonly code: DiagnosticCode;
  /** Other places that explain this one (the other task writing the same output, the rest of a cycle). */
  readonly related?: readonly { readonly range: Range; readonly message: string }[];
}

/** What the validator may ask of the workspace (for "an input nothing produces and the workspace lacks"). */
export interface WorkspaceProbe {
  /** True when the path (relative to the DAG file's folder) exists in the workspace. */
  exists(relativePath: string): boolean;
  /** True when the path is a tracked dataset (a `PATH.dvc` pointer exists). */
  isTracked(relativePath: string): boolean;
}
