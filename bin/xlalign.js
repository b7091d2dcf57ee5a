#!/usr/bin/env node
// Entry point for the installed CLI: runs the compiled command line (npm run build writes dist/).
import '../dist/cli/main.js';
