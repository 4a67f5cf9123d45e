#!/usr/bin/env node
// The `mlw` CLI: runs the bundled agent. `npm run build` produces dist/agent.js.
require('../dist/agent.js');
