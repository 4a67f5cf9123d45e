/**
 * `mlw validate [FILE…] [--json]`: the editor's diagnostics for CI and terminals. With no FILE,
 * every DAG file under the current directory (honouring .gitignore). Text output is
 * `FILE:LINE:COL: severity: message` (1-based, path relative to the current directory) on stdout
 * and a summary on stderr; `--json` prints one JSON document instead. Exit 1 when any file has an
 * error or cannot be read; warnings and hints do not fail.
 */
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { discoverDagFiles } from '../dag/discover';
import { countBySeverity, validateDagFile, type FileValidation } from '../dag/files';
import type { DagDiagnostic } from '../dag/types';
import { UserError } from '../errors';

interface ValidateOptions {
  readonly json?: boolean;
}

interface Unreadable {
  readonly path: string;
  readonly message: string;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Validate DAG files (*.dag.yaml, dag.yaml); with no FILE, every one under the current directory.')
    .argument('[files...]', 'DAG files to validate')
    .option('--json', 'print one JSON document on stdout')
    .action(async (files: string[], options: ValidateOptions) => {
      const cwd = process.cwd();
      const paths = files.length > 0 ? files.map((file) => resolve(cwd, file)) : await discoverDagFiles(cwd);
      const validations: FileValidation[] = [];
      const unreadable: Unreadable[] = [];
      const display = (path: string): string => relative(cwd, path) || path;
      for (const path of paths) {
        try {
          validations.push(await validateDagFile(path));
        } catch (error) {
          if (!(error instanceof UserError)) throw error;
          unreadable.push({ path, message: error.message.replace(path, display(path)) });
        }
      }
      if (options.json) process.stdout.write(`${JSON.stringify(jsonReport(validations, unreadable, display), null, 2)}\n`);
      else for (const validation of validations) process.stdout.write(textReport(validation, display));
      for (const { message } of unreadable) process.stderr.write(`mlw: ${message}\n`);
      const summary = summaryLine(validations, unreadable, files.length === 0);
      const { errors } = countBySeverity(validations.flatMap((validation) => validation.diagnostics));
      if (errors > 0 || unreadable.length > 0) throw new UserError(summary);
      process.stderr.write(`${summary}\n`);
    });
}

function textReport(validation: FileValidation, display: (path: string) => string): string {
  const file = display(validation.path);
  return validation.diagnostics
    .map((diagnostic) => `${file}:${diagnostic.range.start.line + 1}:${diagnostic.range.start.character + 1}: ${diagnostic.severity}: ${diagnostic.message}\n`)
    .join('');
}

function jsonReport(validations: readonly FileValidation[], unreadable: readonly Unreadable[], display: (path: string) => string): unknown {
  const all = validations.flatMap((validation) => validation.diagnostics);
  return {
    files: validations.map((validation) => ({
      path: display(validation.path),
      diagnostics: validation.diagnostics.map(jsonDiagnostic),
    })),
    unreadable: unreadable.map(({ path, message }) => ({ path: display(path), message })),
    ...countBySeverity(all),
  };
}

/** 1-based line/column like the text output, plus the 0-based LSP range for tools. */
function jsonDiagnostic(diagnostic: DagDiagnostic): unknown {
  return {
    line: diagnostic.range.start.line + 1,
    column: diagnostic.range.start.character + 1,
    endLine: diagnostic.range.end.line + 1,
    endColumn: diagnostic.range.end.character + 1,
    severity: diagnostic.severity,
    code: diagnostic.code,
    message: diagnostic.message,
    range: diagnostic.range,
    ...(diagnostic.related ? { related: diagnostic.related } : {}),
  };
}

function summaryLine(validations: readonly FileValidation[], unreadable: readonly Unreadable[], discovered: boolean): string {
  const fileCount = validations.length + unreadable.length;
  if (fileCount === 0) return discovered ? 'no DAG files (*.dag.yaml, dag.yaml) under the current directory' : 'no files given';
  const { errors, warnings, hints } = countBySeverity(validations.flatMap((validation) => validation.diagnostics));
  const parts = [plural(errors, 'error'), plural(warnings, 'warning'), ...(hints > 0 ? [plural(hints, 'hint')] : [])];
  const unread = unreadable.length > 0 ? `, ${plural(unreadable.length, 'file')} unreadable` : '';
  return `${parts.join(', ')} in ${plural(fileCount, 'file')}${unread}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
