// Bundles the agent (also the `mlw` CLI) and the extension with esbuild; `tsc` only type-checks.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

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
  // Native or optional modules that cannot be bundled stay external.
  external: ['vscode', 'better-sqlite3', 'pg-native', 'cpu-features', 'ssh2'],
};

await Promise.all([
  build({ ...common, entryPoints: ['agent/src/main.ts'], outfile: 'dist/agent.js' }),
  build({ ...common, entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js' }),
]);
