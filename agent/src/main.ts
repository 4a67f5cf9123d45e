/** Entry of the `mlw` binary (bundled to dist/agent.js). */
import { runCli } from './cli/program';

void runCli(process.argv.slice(2)).then((code) => {
  // The language server keeps the process alive for its connection; everything else exits here
  // (`agent --serve` once it has stopped).
  // Writes to a pipe are asynchronous: exit only once stdout has taken everything (a long --json
  // listing was cut short otherwise).
  if (process.argv[2] !== 'agent' || !process.argv.includes('--stdio')) process.stdout.write('', () => process.exit(code));
  else process.exitCode = code;
});
