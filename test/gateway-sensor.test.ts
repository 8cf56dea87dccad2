// examples/gateway-sensor/gateway.ts as a user runs it: the demo streams through the
// shipped sequence models, CSV on stdin (a header and a broken line among the readings),
// the same windows through `edgeq serve`, and the README's calibration recipe: the
// stream cut into windows with --windows-csv, then `edgeq convert --calibration` on them.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/runtime/node.js';
import { InferenceServer } from '../src/runtime/serve.js';
import { forecastStream } from '../src/toolchain/data/sensors.js';

const run = promisify(execFile);
const gateway = (args: string[], input?: string) => {
  const child = run(process.execPath, ['--import', 'tsx', 'examples/gateway-sensor/gateway.ts', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (input !== undefined) { child.child.stdin!.end(input); }
  return child;
};
const FORECAST = ['--model', 'models/edge/forecasting.edgeq'];
const dir = mkdtempSync(join(tmpdir(), 'edgeq-gateway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/gateway-sensor', () => {
  it('classifies the demo activity stream: whole-segment windows mostly right', async () => {
    const { stdout } = await gateway(['--generate', 'activity', '--readings', '1024']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(15); // windows of 128 every 64 readings
    // windows 1, 3, … 15 each lie inside one 128-reading segment of one activity
    const whole = lines.filter((_, i) => i % 2 === 0).map((l) => /: (\w+) [\d.]+ {2}\(truth at its end: (\w+)\)$/.exec(l));
    expect(whole.every(Boolean)).toBe(true);
    const right = whole.filter((m) => m![1] === m![2]).length;
    console.log(`gateway demo: ${right} of ${whole.length} whole-segment windows classified as their activity`);
    expect(right).toBeGreaterThanOrEqual(6);
  }, 60_000);

  it('flags the demo fault (24 noisy readings two thirds of the way) and nothing else', async () => {
    const { stdout } = await gateway([...FORECAST, '--generate', 'forecast', '--readings', '1024']);
    const flagged = stdout.split('\n').filter((l) => l.includes('ANOMALY')).map((l) => Number(/^reading (\d+):/.exec(l)![1]));
    const at = Math.floor(2048 / 3);
    console.log(`gateway demo: ${flagged.length} readings flagged, from ${flagged[0]} to ${flagged[flagged.length - 1]} (fault ${at}–${at + 23})`);
    expect(flagged.length).toBeGreaterThanOrEqual(8);
    expect(flagged.every((t) => t >= at && t <= at + 24)).toBe(true); // the reading after the fault reads a noisy window
  }, 60_000);

  it('reads CSV on stdin (header and a broken line skipped), and gives the same lines through edgeq serve', async () => {
    const x = forecastStream(120, 9);
    const csv = ['reading', ...Array.from(x.slice(0, 60), (v) => v.toFixed(5)), '0.1,0.2', ...Array.from(x.slice(60), (v) => v.toFixed(5))].join('\n');
    const local = await gateway(FORECAST, csv);
    expect(local.stderr).toMatch(/line 62 has 2 values; .* takes 1 per reading \(\[32, 1\] per window\): skipped/);
    const lines = local.stdout.trim().split('\n');
    expect(lines).toHaveLength(120 - 32); // a forecast after every reading from the 32nd; each checked when the next arrives
    expect(lines[0]).toMatch(/^reading 32: -?[\d.]+, forecast -?[\d.]+, error [\d.]+, score [\d.]+/);
    const server = new InferenceServer(new Map([['forecasting', await loadModel(readFileSync('models/edge/forecasting.edgeq'))]]), { port: 0 });
    const a = await server.listen();
    try {
      const served = await gateway([...FORECAST, '--serve', `http://127.0.0.1:${a.port}`], csv);
      expect(served.stdout).toBe(local.stdout);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('--windows-csv cuts a recorded stream into calibration rows that edgeq convert takes', async () => {
    const x = forecastStream(400, 11);
    const { stdout } = await gateway([...FORECAST, '--windows-csv', '--hop', '8'], Array.from(x, (v) => v.toFixed(5)).join('\n'));
    const rows = stdout.trim().split('\n');
    expect(rows).toHaveLength(Math.floor((400 - 32) / 8) + 1);
    expect(rows.every((r) => r.split(',').length === 32)).toBe(true);
    expect(rows[1].split(',').map(Number)[0]).toBeCloseTo(x[8], 4);
    writeFileSync(join(dir, 'windows.csv'), stdout);
    const out = join(dir, 'mine.edgeq');
    execFileSync(process.execPath, ['--import', 'tsx', 'src/runtime/cli/edgeq.ts', 'convert', 'models/float/forecasting/model.json', '--calibration', join(dir, 'windows.csv'), '--out', out], { encoding: 'utf8', stdio: 'pipe' });
    const m = await loadModel(readFileSync(out));
    expect(m.inputShape).toEqual([32, 1]);
    const y = m.predict(x.subarray(0, 32));
    const ref = await loadModel(readFileSync('models/edge/forecasting.edgeq'));
    expect(Math.abs(y[0] - ref.predict(x.subarray(0, 32))[0])).toBeLessThan(0.1); // calibrated on other data, the same model
    m.dispose(); ref.dispose();
  }, 120_000);
});
