/** Child process for the lock tests: takes the output lock on argv[3…] in workspace argv[2], says `locked`, and holds it until killed. */
import { acquireOutputLock } from '../../../agent/src/pipeline/lock';

const [root, ...outputs] = process.argv.slice(2);
void acquireOutputLock(root!, outputs, 'the lock-holder test child').then(() => {
  process.stdout.write('locked\n');
  setInterval(() => undefined, 1 << 30);
});
