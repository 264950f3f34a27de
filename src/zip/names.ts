/**
 * Zip member names: decoding (UTF-8 when flagged, CP437 otherwise, as Python's
 * zipfile does) and the checks that keep hostile names out.
 */
import { TensioError } from '../core/errors.js';
import { quoteInput } from '../core/quote.js';

// Upper half of code page 437, the zip default when the UTF-8 flag is clear.
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a member name: strict UTF-8 when bit 11 is set, CP437 otherwise.
 *
 * @example
 * ```ts
 * zipDecodeName(new TextEncoder().encode('arr_0.npy'), 0x0800, 'npz'); // 'arr_0.npy'
 * ```
 */
export function zipDecodeName(bytes: Uint8Array, flags: number, format: string): string {
  if (flags & 0x0800) {
    try {
      return utf8Decoder.decode(bytes);
    } catch (cause) {
      throw new TensioError('INVALID_UTF8', `${format}: zip member name is flagged UTF-8 but is not valid UTF-8`, { format, cause });
    }
  }
  let ascii = true;
  for (const byte of bytes) if (byte >= 0x80) ascii = false;
  if (ascii) return String.fromCharCode(...bytes);
  let out = '';
  for (const byte of bytes) out += byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80];
  return out;
}

/**
 * Why a member name is unsafe, or undefined when it is fine: empty, absolute, with a
 * `..` segment, a backslash, a NUL or a drive letter. tensio never extracts to disk,
 * but names flow into keys and paths elsewhere, so they are held to extraction rules.
 *
 * @example
 * ```ts
 * zipNameProblem('../etc/passwd'); // 'has a ".." segment'
 * ```
 */
export function zipNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (name.split('/').some((segment) => segment === '..')) return 'has a ".." segment';
  return undefined;
}

/** Throws `INVALID_NAME` when {@link zipNameProblem} finds a problem. */
export function zipCheckName(name: string, format: string): void {
  const problem = zipNameProblem(name);
  if (problem) throw new TensioError('INVALID_NAME', `${format}: zip member name ${quoteInput(name)} ${problem}`, { format });
}
