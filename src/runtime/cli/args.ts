// What every edgeq command shares: the I/O it writes to, the usage error (exit 2), the
// argument parser, and the few number formats the commands print. Toolchain commands
// import these from here, so `main` sees one UsageError class.

import { parseArgs } from 'node:util';

// progress: raw writes (no newline added) for progress bars; tty: redraw in place
export interface Io { out: (s: string) => void; err: (s: string) => void; progress?: (s: string) => void; tty?: boolean }

// A command that parses its own arguments; returns the exit code.
export type Command = (args: string[], io: Io) => Promise<number>;

export class UsageError extends Error {}

// Option specs and the values they parse to, spelled out here (node:util's own types
// cannot be named in the emitted declarations).
type Spec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values<O extends Spec> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

export function parse<O extends Spec>(args: string[], options: O): { values: Values<O>; positionals: string[] } {
  // `--input-range -1-1`, `--pixel-mean -0.5`: a value that starts with a minus and a
  // digit is the option's value, not another option (node:util would refuse it)
  args = args.flatMap((a, i) => {
    const prev = args[i - 1];
    if (/^-\d/.test(a) && prev?.startsWith('--') && !prev.includes('=') && options[prev.slice(2)]?.type === 'string') return [];
    const next = args[i + 1];
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) return [`${a}=${next}`];
    return [a];
  });
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: Values<O>; positionals: string[] };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
}

export const kb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1048576).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} KB`);
export const shape = (s: readonly number[]) => `[${s.join('×')}]`;
export const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
