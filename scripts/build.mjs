// Bundles the agent (also the `mlw` CLI) and the extension with esbuild; `tsc` only type-checks.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const production = process.argv.includes('--production');
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  define: { MLW_VERSION: JSON.stringify(version) },
  // Native or optional modules that cannot be bundled stay external. better-sqlite3's JavaScript is
  // bundled; its native module is copied next to the agent below (agent/src/sqlite.ts finds it).
  external: ['vscode', 'pg-native', 'cpu-features', 'ssh2'],
};

// dockerode (with gRPC and protobuf, ~1 MB) is only needed for image builds: it gets a bundle of its
// own, dist/dockerode.js, that the agent requires on first use, so every other `mlw` command starts
// without parsing it.
const dockerodeApart = {
  name: 'dockerode-apart',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^dockerode$/ }, () => ({ path: './dockerode.js', external: true }));
  },
};

// The AWS SDK (~1.3 MB) likewise: only an S3 remote needs it, so agent/src/data/remotes/s3-sdk.ts is
// dist/aws-s3.js, required on first use.
const awsSdkApart = {
  name: 'aws-sdk-apart',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/s3-sdk$/ }, () => ({ path: './aws-s3.js', external: true }));
  },
};

// docker-modem requires ssh2 at load time for ssh:// engines only; ssh2 (native, optional parts) is
// not in the .vsix, so the dockerode bundle gets a stand-in that says so if an ssh:// engine is used.
const ssh2Unsupported = {
  name: 'ssh2-unsupported',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'ssh2-unsupported' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'ssh2-unsupported' }, () => ({
      contents: "exports.Client = class { constructor() { throw new Error('ssh:// Docker engines are not supported: use a unix socket or tcp://'); } };",
      loader: 'js',
    }));
  },
};

function pageScript(entry, outfile) {
  return {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: production,
    sourcemap: false,
    logLevel: 'warning',
    entryPoints: [entry],
    outfile,
  };
}

mkdirSync('dist', { recursive: true });
copyFileSync('node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'dist/better_sqlite3.node');
buildNativeTransfer();

await Promise.all([
  build({ ...common, entryPoints: ['agent/src/main.ts'], outfile: 'dist/agent.js', plugins: [dockerodeApart, awsSdkApart] }),
  build({ ...common, entryPoints: ['agent/src/data/remotes/s3-sdk.ts'], outfile: 'dist/aws-s3.js' }),
  // The thin `mlw run` client that bin/mlw.js tries before loading the agent (hand-off to a resident agent).
  build({ ...common, entryPoints: ['agent/src/cli/handoff-client.ts'], outfile: 'dist/mlw-client.js' }),
  build({ ...common, entryPoints: ['node_modules/dockerode/lib/docker.js'], outfile: 'dist/dockerode.js', plugins: [ssh2Unsupported] }),
  build({ ...common, entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js' }),
  // The webviews' page scripts: for the browser, each loaded by nonce under a strict CSP.
  build(pageScript('extension/src/webviews/runs-client.ts', 'dist/webview-runs.js')),
  build(pageScript('extension/src/webviews/dag-graph-client.ts', 'dist/webview-dag-graph.js')),
]);

// esbuild escapes non-ASCII characters in code but keeps comments as written; escaping those too
// makes the agent bundle pure ASCII, which bin/mlw.js reads without UTF-8 decoding (faster start).
const agentBundle = readFileSync('dist/agent.js', 'utf8');
const asciiBundle = agentBundle.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (asciiBundle !== agentBundle) writeFileSync('dist/agent.js', asciiBundle);

/**
 * The native transfer loop (agent/native/transfer.c, a Node-API module) next to the bundle. Optional:
 * without a C compiler or Node's headers the agent keeps its JavaScript path (native-transfer.ts),
 * so a failure here is a warning. Rebuilt only when the source is newer than the module.
 */
function buildNativeTransfer() {
  const source = 'agent/native/transfer.c';
  const output = 'dist/mlw_transfer.node';
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return;
  // Node's headers where its installation keeps them (<prefix>/include/node), as node-gyp's nodedir.
  const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
  const temporary = `${output}.${process.pid}.tmp`;
  try {
    if (!existsSync(join(headers, 'node_api.h'))) throw new Error(`no node_api.h in ${headers}`);
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-shared', '-fPIC', `-I${headers}`, '-o', temporary, source, '-lpthread'], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(temporary, output);
  } catch (error) {
    rmSync(temporary, { force: true });
    rmSync(output, { force: true });
    const detail = error.stderr?.toString().trim() || error.message;
    process.stderr.write(`warning: the native transfer loop was not built (push and pull use their JavaScript paths): ${detail}\n`);
  }
}
