import type { Command } from 'commander';
import { UserError } from '../errors';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Validate DAG files (*.dag.yaml, dag.yaml); with no FILE, every one under the current directory.')
    .argument('[files...]', 'DAG files to validate')
    .option('--json', 'print one JSON document on stdout')
    .action(() => {
      throw new UserError('validate: not implemented yet');
    });
}
