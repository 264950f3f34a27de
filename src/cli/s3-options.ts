/**
 * S3 settings for the CLI. Global flags, accepted anywhere on the command line like
 * `--debug`, and the AWS environment variables (read from the CLI's environment, so the
 * in-process tests can set them):
 *
 * - `--endpoint-url URL` (or `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`): an S3-compatible
 *   store; path-style addressing and checksums only when required.
 * - `--no-sign-request`: anonymous requests (public buckets).
 * - `--profile NAME` (or `AWS_PROFILE`), `--region NAME` (or `AWS_REGION`).
 * - `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`; otherwise the
 *   shared config and credentials files, as the AWS CLI does.
 */
import { setS3Defaults, type S3Options } from '../storage/s3-client.js';
import { CliUsageError } from './types.js';

/** Help lines for the global S3 options. */
export const CLI_S3_HELP = `      --endpoint-url URL  for s3:// paths: an S3-compatible store (or set
                  AWS_ENDPOINT_URL); credentials from AWS_ACCESS_KEY_ID and
                  AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws, as the AWS CLI
      --no-sign-request   for s3:// paths: anonymous requests (public buckets)
      --profile NAME, --region NAME   for s3:// paths: AWS profile and region`;

const VALUE_FLAGS = new Set(['--endpoint-url', '--profile', '--region']);

/**
 * Takes the global S3 flags out of `args` and sets the S3 defaults from them and from
 * `env`. Returns the other arguments.
 *
 * @example
 * ```ts
 * const rest = cliApplyS3Options(['convert', 's3://b/x.npy', 'y.npy', '--endpoint-url', 'http://127.0.0.1:9000'], process.env);
 * ```
 */
export function cliApplyS3Options(args: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const rest: string[] = [];
  const flags: Record<string, string> = {};
  let noSign = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--') {
      rest.push(...args.slice(index));
      break;
    }
    if (arg === '--no-sign-request') {
      noSign = true;
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if (!VALUE_FLAGS.has(name)) {
      rest.push(arg);
      continue;
    }
    const value = equals > 0 ? arg.slice(equals + 1) : args[++index];
    if (value === undefined || value === '' || (equals < 0 && value.startsWith('--'))) throw new CliUsageError(`${name} needs a value`);
    flags[name] = value;
  }
  const options: S3Options = {};
  const endpoint = flags['--endpoint-url'] ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) {
    if (!/^https?:\/\/[^/]/i.test(endpoint)) throw new CliUsageError(`--endpoint-url ${JSON.stringify(endpoint)} is not an http:// or https:// URL`);
    options.endpoint = endpoint;
  }
  const profile = flags['--profile'] ?? env.AWS_PROFILE;
  if (profile) options.profile = profile;
  const region = flags['--region'] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) options.region = region;
  if (noSign) options.noSignRequest = true;
  else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    options.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  }
  setS3Defaults(options);
  return rest;
}
