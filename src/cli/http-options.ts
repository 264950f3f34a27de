/**
 * HTTP options for the CLI: request headers from `--header 'Name: value'` (repeatable)
 * and a token from the environment, for inputs given as `http(s)://` URLs.
 *
 * - `TENSIO_HTTP_TOKEN`: sent as `Authorization: Bearer …` to the host of the URL given.
 * - `HF_TOKEN` (or `HUGGING_FACE_HUB_TOKEN`): sent only when the URL's host is
 *   huggingface.co or hf.co (or one of their sub-domains), so a Hugging Face token
 *   never reaches another server.
 *
 * An explicit `--header 'Authorization: …'` wins over both. Redirects to another host
 * never carry any of these (the HTTP client drops credentials across origins).
 */
import { CliUsageError, type CliContext } from './types.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { isHttpUrl } from '../storage/source-input.js';

/** The `--header` option definition, shared by the commands that read inputs. */
export const CLI_HEADER_OPTION = { header: { type: 'string', multiple: true } } as const;

/** Help text lines for `--header` and the token variables. */
export const CLI_HEADER_HELP = `      --header 'NAME: VALUE'
                  for http(s):// inputs, send this request header (repeatable),
                  e.g. --header 'Authorization: Bearer hf_…'. TENSIO_HTTP_TOKEN
                  (any host) or HF_TOKEN (huggingface.co only) set a bearer token`;

/** True for hosts that may receive a Hugging Face token. */
function isHuggingFaceHost(host: string): boolean {
  const lower = host.toLowerCase();
  return ['huggingface.co', 'hf.co'].some((domain) => lower === domain || lower.endsWith(`.${domain}`));
}

/**
 * The HTTP options for one input: undefined when it is not a URL (or nothing is set).
 *
 * @example
 * ```ts
 * cliHttpOptions(['Authorization: Bearer x'], 'https://host/m.safetensors', context);
 * // { headers: { Authorization: 'Bearer x' } }
 * ```
 */
export function cliHttpOptions(headerValues: unknown, input: string, context: Pick<CliContext, 'env'>, command: string): HttpSourceOptions | undefined {
  const headers: Record<string, string> = {};
  const given = Array.isArray(headerValues) ? headerValues : typeof headerValues === 'string' ? [headerValues] : [];
  for (const raw of given as string[]) {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new CliUsageError(`--header ${JSON.stringify(raw)} is not 'Name: value'`, command);
    const value = raw.slice(colon + 1).trim();
    if (/[\r\n]/.test(value)) throw new CliUsageError(`--header ${name}: the value holds a line break`, command);
    headers[name] = value;
  }
  if (!isHttpUrl(input)) return undefined;
  const hasAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  if (!hasAuthorization) {
    const host = new URL(input).hostname;
    const token = context.env.TENSIO_HTTP_TOKEN || (isHuggingFaceHost(host) ? context.env.HF_TOKEN || context.env.HUGGING_FACE_HUB_TOKEN : undefined);
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  return Object.keys(headers).length > 0 ? { headers } : undefined;
}
