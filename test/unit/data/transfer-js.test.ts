/**
 * transfer.test.ts on the JavaScript transfer loop, which runs where the native module (agent/native)
 * is not built or does not load: both loops are held to the same tests.
 */
import './javascript-transfer';
import './transfer.test';
