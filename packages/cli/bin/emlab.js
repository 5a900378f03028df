#!/usr/bin/env node
// The `emlab` executable: a committed shim (npm links bins at install time, before
// `prepare` builds dist/), which runs the built CLI.
import '../dist/bin.js';
