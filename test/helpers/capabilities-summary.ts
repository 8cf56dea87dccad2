// vitest global setup: at the end of the run, one summary of the tests skipped for a
// missing capability (test/helpers/capabilities.ts) and the one command that installs
// everything. Nothing is printed on CI (CI=true), where nothing is skipped.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPABILITY_LOG_ENV, INSTALL_COMMAND } from './capabilities.js';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'edgeq-capabilities-'));
  const log = join(dir, 'skipped.jsonl');
  // the test workers are started after this and inherit it
  process.env[CAPABILITY_LOG_ENV] = log;
  return () => {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      // nothing was skipped
    }
    rmSync(dir, { recursive: true, force: true });
    delete process.env[CAPABILITY_LOG_ENV];
    if (process.env.CI === 'true' || !text) return;
    const missing = new Map<string, { reason: string; files: Set<string> }>();
    for (const line of text.split('\n').filter(Boolean)) {
      const { name, reason, file } = JSON.parse(line) as { name: string; reason: string; file?: string };
      const m = missing.get(name) ?? { reason, files: new Set<string>() };
      if (file) m.files.add(file);
      missing.set(name, m);
    }
    const lines = [
      'SKIPPED: tests that need what this machine does not have (CI installs it and runs them all):',
      ...[...missing].sort(([a], [b]) => a.localeCompare(b)).map(([name, m]) => `  ${name}: ${m.reason}${m.files.size ? ` — ${[...m.files].sort().join(', ')}` : ''}`),
      `install everything: ${INSTALL_COMMAND}`,
    ];
    const bar = '*'.repeat(100);
    console.warn(`\n${bar}\n${lines.map((l) => `*** ${l}`).join('\n')}\n${bar}\n`);
  };
}
