#!/usr/bin/env node
// The `edgeq` executable.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  progress: (s) => process.stderr.write(s),
  tty: process.stderr.isTTY === true,
});
