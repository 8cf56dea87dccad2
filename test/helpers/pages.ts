// A static server on 127.0.0.1 and headless Chromium, for the page tests.

import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './capabilities.js';

// tests that launch it check capability('chromium') first (test/helpers/capabilities.ts)
export const CHROMIUM = CHROMIUM_PATH;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

// Serves `dir`, with a Content-Security-Policy header when given, and any other headers.
export async function serveDir(dir: string, csp?: string, headers: Record<string, string> = {}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/favicon.ico') { res.statusCode = 204; res.end(); return; }
    const file = join(dir, (req.url ?? '/').split('?')[0].replace(/^\/$/, '/index.html'));
    if (!file.startsWith(dir) || !existsSync(file)) { res.statusCode = 404; res.end(); return; }
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    if (csp) res.setHeader('content-security-policy', csp);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.end(readFileSync(file));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

export function launchChromium(extraArgs: string[] = ['--disable-gpu']): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });
}
