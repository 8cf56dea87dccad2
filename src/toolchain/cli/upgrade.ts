// `edgeq upgrade`: a format-1 .edgeq file rewritten as format 2 (format/upgrade.ts):
// the same weights and outputs for pixel inputs, float inputs in the source's units.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { parse, UsageError, type Command } from '../../runtime/cli/args.js';
import { InputError } from '../../runtime/errors.js';
import { upgradeToV2 } from '../format/upgrade.js';

const UPGRADE_HELP = `usage: edgeq upgrade <old.edgeq> --out <new.edgeq>

Rewrites a format-1 .edgeq file as format 2. Format 1 applied the model's input scale
(e.g. × 1/255) to every input; format 2 applies it to pixel inputs (Uint8Array,
ImageData, raw bytes) only, and takes float inputs as the source model's predict
does. Weights, ops and metadata are kept byte for byte, so pixel inputs give the same
outputs as before. A format-2 file is copied unchanged.

options:
  --out FILE    the file to write (required; may be the input file)
  -h, --help    this help`;

export const command: Command = async (args, io) => {
  const { values, positionals } = parse(args, { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) { io.out(UPGRADE_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`upgrade takes one model file, got ${positionals.length}`);
  if (!values.out) throw new UsageError('upgrade needs --out <file.edgeq>');
  const bytes = await readFile(positionals[0]).catch((e: NodeJS.ErrnoException) => {
    throw new InputError('E_INPUT_FILE', e.code === 'ENOENT' ? `model file not found: ${positionals[0]}` : `cannot read ${positionals[0]}: ${e.message}`);
  });
  const version = bytes.length >= 8 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) : 0;
  const out = upgradeToV2(bytes);
  const tmp = `${values.out}.tmp-${process.pid}`;
  await writeFile(tmp, out);
  await rename(tmp, values.out);
  io.out(version === 1 ? `upgraded  ${positionals[0]} (format 1) → ${values.out} (format 2), ${out.length} bytes` : `${positionals[0]} is already format 2: copied to ${values.out}`);
  return 0;
};
