/** Runs the tensio CLI in-process and captures what it prints. */
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/types.js';
import { getFormat } from '../../src/operations/index.js';
import type { Tensor } from '../../src/core/tensor.js';

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tensio ...args` in-process with `cwd`, not a TTY unless asked. */
export async function runCli(args: string[], options: { cwd?: string; isTTY?: boolean; signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: options.isTTY ?? false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** The `CODE` of the `tensio: CODE: message` line on stderr, if there is one. */
export function cliErrorCode(stderr: string): string | undefined {
  return /^tensio: ([A-Z0-9_]+): /m.exec(stderr)?.[1];
}


/** Writes tensors with a registered format's own writer (the generic seam). */
export async function writeWithFormat(formatName: string, path: string, tensors: Record<string, Tensor>, options: { metadata?: Record<string, unknown>; formatOptions?: Record<string, unknown> } = {}): Promise<void> {
  const format = getFormat(formatName);
  const writer = await format.createWriter!(path, {
    tensors: Object.entries(tensors).map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape })),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}),
  });
  for (const name of writer.order) await writer.add(name, tensors[name]!.data);
  await writer.close();
}
