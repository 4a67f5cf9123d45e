// Imported first by transfer-js.test.ts: the agent reads this when it first pulls (native-transfer.ts).
process.env.MLW_NATIVE_TRANSFER = '0';
