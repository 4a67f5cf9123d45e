/** Entry of the `mlw` binary (bundled to dist/agent.js). */
import { runCli } from './cli/program';

void runCli(process.argv.slice(2)).then((code) => {
  // The agent subcommand keeps the process alive for the connection; everything else exits here.
  // Writes to a pipe are asynchronous: exit only once stdout has taken everything (a long --json
  // listing was cut short otherwise).
  if (process.argv[2] !== 'agent') process.stdout.write('', () => process.exit(code));
  else process.exitCode = code;
});
