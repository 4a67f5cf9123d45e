/** Entry of the `mlw` binary (bundled to dist/agent.js). */
import { runCli } from './cli/program';

void runCli(process.argv.slice(2)).then((code) => {
  // The agent subcommand keeps the process alive for the connection; everything else exits here.
  if (process.argv[2] !== 'agent') process.exit(code);
  else process.exitCode = code;
});
