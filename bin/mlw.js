#!/bin/sh
':' //; if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then export MLW_DEFERRED_NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS" NODE_EXTRA_CA_CERTS=; fi; exec node "$0" "$@"
// The `mlw` CLI: runs the bundled agent (`npm run build` produces dist/agent.js).
//
// The line above is for sh, and a string and a comment for JavaScript. Node 20 parses every
// certificate that NODE_EXTRA_CA_CERTS names before any code runs: ~40 ms per start for a system
// bundle of 144 (docs/architecture.md). Only TLS needs them, and most commands open none,
// so run as `mlw`, this file starts node without them and puts the variable back below, for
// child processes and for the S3 remote, which hands them to its own connections
// (agent/src/data/remotes/s3.ts). Run as `node bin/mlw.js`, nothing changes.
//
// Start-up matters (`mlw run` is measured against `docker run`), and compiling the 2 MB bundle is a
// third of it. Node 20 has no module.enableCompileCache, and v8-compile-cache saves the cache before
// the code runs, when V8 has compiled almost nothing yet; so we keep V8's code cache ourselves,
// taken at exit, when it holds every function this command compiled. The cache is keyed by the
// bundle's size and mtime and node's flags (V8 rejects a cache made under other flags: a run with
// --cpu-prof, say, must not throw away the everyday one); a rejected or unreadable cache only costs a
// normal start.
'use strict';
const path = require('node:path');

if (process.env.MLW_DEFERRED_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.MLW_DEFERRED_NODE_EXTRA_CA_CERTS;
  delete process.env.MLW_DEFERRED_NODE_EXTRA_CA_CERTS;
}

const bundle = path.join(__dirname, '..', 'dist', 'agent.js');

function runWithCodeCache() {
  const { isAscii } = require('node:buffer');
  const { createHash } = require('node:crypto');
  const fs = require('node:fs');
  const Module = require('node:module');
  const os = require('node:os');
  const vm = require('node:vm');
  // The bundle is ASCII (build.mjs escapes the rest): read as latin1 it needs no UTF-8 decoding,
  // ~25 ms less per start here. Anything else is decoded as UTF-8, as usual.
  const bytes = fs.readFileSync(bundle);
  const source = isAscii(bytes) ? bytes.latin1Slice(0, bytes.length) : bytes.toString('utf8');
  const stats = fs.statSync(bundle);
  const key = createHash('sha1').update(`${bundle}:${stats.size}:${stats.mtimeMs}:${process.version}:${process.execArgv.join(' ')}`).digest('hex');
  const cacheDir = path.join(os.tmpdir(), `mlw-code-cache-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
  const cacheFile = path.join(cacheDir, `${key}.bin`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        const temporary = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, script.createCachedData());
        fs.renameSync(temporary, cacheFile);
      } catch {
        // a cache we cannot write is only a slower next start
      }
    });
  }
  const agentModule = new Module(bundle, module);
  agentModule.filename = bundle;
  agentModule.paths = Module._nodeModulePaths(path.dirname(bundle));
  require.cache[bundle] = agentModule;
  const wrapper = script.runInThisContext();
  wrapper.call(agentModule.exports, agentModule.exports, Module.createRequire(bundle), agentModule, bundle, path.dirname(bundle));
  agentModule.loaded = true;
}

/**
 * `mlw run` first offers its command line to a resident agent of the workspace (`mlw agent
 * --serve`), through the small client bundle, and loads the agent only when none takes it.
 */
function main() {
  if (process.argv[2] !== 'run') return runWithCodeCache();
  let client;
  try {
    client = require('../dist/mlw-client.js');
  } catch {
    return runWithCodeCache();
  }
  client.tryHandOff(process.argv.slice(2)).then(
    (code) => {
      if (code === undefined) runWithCodeCache();
      else process.stdout.write('', () => process.exit(code));
    },
    () => runWithCodeCache(),
  );
}

main();
