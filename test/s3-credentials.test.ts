/**
 * Where S3 credentials and the region come from, against a real S3-compatible server
 * (Swift with s3api, started once for this file), with tensio's process defaults
 * cleared so nothing but the standard AWS chain is in play:
 *
 * - a named profile of the shared config and credentials files (AWS_CONFIG_FILE /
 *   AWS_SHARED_CREDENTIALS_FILE), chosen with `profile`, AWS_PROFILE or the CLI's
 *   `--profile` (the CLI run as a real process with that environment);
 * - environment credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY);
 * - the region: none anywhere → us-east-1 (what Swift here expects); a profile's region
 *   is used; a wrong one is `WRONG_REGION` naming the region the store expects (Swift
 *   does not redirect); a call's `region` wins over the profile's;
 * - anonymous reads (`--no-sign-request`) of a PUBLIC bucket (made public with S3's
 *   `PutBucketAcl public-read`, which Swift turns into the container ACL `.r:*`), and
 *   refused for a private one.
 *
 * Swift's s3api hands unsigned requests to Swift's own API (they are "not S3
 * requests"), so an anonymous read goes to the public container's Swift URL: the
 * endpoint is `http://127.0.0.1:PORT/v1/AUTH_test`, under which path-style S3 keys are
 * `/bucket/key` as in S3. The requests are tensio's S3 requests (GetObject with ranges
 * and If-Match, unsigned).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutBucketAclCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isTensioError } from '../src/core/errors.js';
import { createTensor } from '../src/core/tensor.js';
import { setS3Defaults, type S3Options } from '../src/storage/s3-client.js';
import { s3Source } from '../src/storage/s3-source.js';
import { cliErrorCode, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { s3Skip, useSwiftS3 } from './helpers/s3-test-env.js';
import { SWIFT_CREDENTIALS } from './helpers/swift-s3.js';

const env = useSwiftS3('tensio-creds');
const skip = s3Skip;
const PUBLIC_BUCKET = 'tensio-public';
const AWS_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'];
/**
 * The chain's last resort asks the EC2 instance metadata service (169.254.169.254):
 * never from a test (only loopback traffic here), so it is turned off in every
 * environment these tests make.
 */
const NO_METADATA_SERVICE = { AWS_EC2_METADATA_DISABLED: 'true' };
const saved = Object.fromEntries([...AWS_VARIABLES, 'AWS_EC2_METADATA_DISABLED', 'HOME'].map((name) => [name, process.env[name]]));
after(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/**
 * Sets exactly these AWS variables in this process (the SDK's chain reads process.env)
 * and clears tensio's defaults and shared connections, so the chain is asked afresh.
 */
function useAwsEnvironment(variables: Record<string, string>): void {
  for (const name of AWS_VARIABLES) delete process.env[name];
  Object.assign(process.env, NO_METADATA_SERVICE, variables);
  setS3Defaults({});
}

/** Shared config and credentials files in a fresh folder (the SDK caches files by path). */
async function sharedFiles(dir: string, config: string, credentials: string): Promise<Record<string, string>> {
  const configPath = join(dir, 'config');
  const credentialsPath = join(dir, 'credentials');
  await writeFile(configPath, config);
  await writeFile(credentialsPath, credentials);
  // A HOME without ~/.aws, so only these files can answer.
  return { AWS_CONFIG_FILE: configPath, AWS_SHARED_CREDENTIALS_FILE: credentialsPath, HOME: dir };
}

/** Puts a small object and returns its s3:// location. */
async function putObject(key: string, body: Uint8Array = new Uint8Array([1, 2, 3, 4, 5])): Promise<string> {
  const { client, bucket } = env.current!;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

async function readsFive(location: string, options: S3Options): Promise<void> {
  const source = await s3Source(location, options);
  assert.deepEqual(await source.read(0, 5), new Uint8Array([1, 2, 3, 4, 5]));
  await source.close();
}

const root = fileURLToPath(new URL('..', import.meta.url));
const cliSource = fileURLToPath(new URL('../src/bin/tensio.ts', import.meta.url));

/** The CLI as a user runs it: its own process, with exactly `variables` for AWS (and PATH). */
async function tensioProcess(args: string[], variables: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cliSource, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...NO_METADATA_SERVICE, ...variables },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.on('close', (exitCode) => resolveExit(exitCode)));
  return { code, stdout, stderr };
}

test('a named profile of the shared config and credentials files: by option, by AWS_PROFILE; a wrong or missing profile is BAD_CREDENTIALS', { skip }, async (t) => {
  const { server } = env.current!;
  const location = await putObject('creds/profile.bin');
  const dir = await tempDir(t);
  const files = await sharedFiles(dir, '[default]\nregion = us-east-1\n\n[profile swift]\nregion = us-east-1\n\n[profile broken]\nregion = us-east-1\n',
    `[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[swift]\naws_access_key_id = ${SWIFT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${SWIFT_CREDENTIALS.secretAccessKey}\n\n[broken]\naws_access_key_id = ${SWIFT_CREDENTIALS.accessKeyId}\naws_secret_access_key = not-the-secret\n`);
  useAwsEnvironment(files);
  await readsFive(location, { endpoint: server.endpoint, profile: 'swift' });
  useAwsEnvironment({ ...files, AWS_PROFILE: 'swift' });
  await readsFive(location, { endpoint: server.endpoint });
  useAwsEnvironment(files);
  await assert.rejects(s3Source(location, { endpoint: server.endpoint }), (e) => isTensioError(e, 'BAD_CREDENTIALS') && (e as Error).message.includes(location), 'the default profile holds keys the store does not know');
  await assert.rejects(s3Source(location, { endpoint: server.endpoint, profile: 'broken' }), (e) => isTensioError(e, 'BAD_CREDENTIALS'));
  await assert.rejects(s3Source(location, { endpoint: server.endpoint, profile: 'no-such-profile' }), (e) => isTensioError(e, 'BAD_CREDENTIALS') && /AWS_PROFILE|credentials/.test((e as Error).message));
});

test('environment credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY win over the shared files; wrong ones are BAD_CREDENTIALS', { skip }, async (t) => {
  const { server } = env.current!;
  const location = await putObject('creds/env.bin');
  const dir = await tempDir(t);
  const files = await sharedFiles(dir, '[default]\nregion = us-east-1\n', '[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n');
  useAwsEnvironment({ ...files, AWS_ACCESS_KEY_ID: SWIFT_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SWIFT_CREDENTIALS.secretAccessKey });
  await readsFive(location, { endpoint: server.endpoint });
  useAwsEnvironment({ ...files, AWS_ACCESS_KEY_ID: SWIFT_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong' });
  await assert.rejects(s3Source(location, { endpoint: server.endpoint }), (e) => isTensioError(e, 'BAD_CREDENTIALS'));
});

test('region: none set anywhere → us-east-1; a profile\'s region is used (a wrong one is WRONG_REGION naming the expected one); a call\'s region wins', { skip }, async (t) => {
  const { server } = env.current!;
  const location = await putObject('creds/region.bin');
  const dir = await tempDir(t);
  const credentials = `[default]\naws_access_key_id = ${SWIFT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${SWIFT_CREDENTIALS.secretAccessKey}\n\n[far]\naws_access_key_id = ${SWIFT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${SWIFT_CREDENTIALS.secretAccessKey}\n`;
  const files = await sharedFiles(dir, '[default]\n\n[profile far]\nregion = eu-west-3\n', credentials);
  useAwsEnvironment(files);
  await readsFive(location, { endpoint: server.endpoint }); // no region in env, option or profile: us-east-1, Swift's
  await assert.rejects(s3Source(location, { endpoint: server.endpoint, profile: 'far' }), (e) => isTensioError(e, 'WRONG_REGION') && /expects us-east-1/.test((e as Error).message) && /--region us-east-1/.test((e as Error).message));
  await readsFive(location, { endpoint: server.endpoint, profile: 'far', region: 'us-east-1' });
  useAwsEnvironment({ ...files, AWS_REGION: 'us-east-1', AWS_PROFILE: 'far' });
  await readsFive(location, { endpoint: server.endpoint }); // AWS_REGION over the profile's region, as the AWS CLI
});

test('CLI process: --profile and AWS_PROFILE pick a profile of the shared files; a wrong region is exit 1 WRONG_REGION', { skip }, async (t) => {
  const { server, bucket } = env.current!;
  const dir = await tempDir(t);
  const model = join(dir, 'model.safetensors');
  await writeWithFormat('safetensors', model, { weight: createTensor('float32', [4, 2], new Float32Array(8).map((_, i) => i)) });
  const { readFile } = await import('node:fs/promises');
  await env.current!.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'creds/model.safetensors', Body: await readFile(model) }));
  const files = await sharedFiles(dir, '[profile swift]\nregion = us-east-1\n\n[profile far]\nregion = eu-west-3\n',
    `[swift]\naws_access_key_id = ${SWIFT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${SWIFT_CREDENTIALS.secretAccessKey}\n\n[far]\naws_access_key_id = ${SWIFT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${SWIFT_CREDENTIALS.secretAccessKey}\n`);
  const location = `s3://${bucket}/creds/model.safetensors`;
  const byFlag = await tensioProcess(['inspect', location, '--json', '--profile', 'swift', '--endpoint-url', server.endpoint], files);
  assert.equal(byFlag.code, 0, byFlag.stderr);
  assert.equal((JSON.parse(byFlag.stdout) as { tensors: Array<{ name: string }> }).tensors[0]!.name, 'weight');
  const byVariable = await tensioProcess(['inspect', location, '--json'], { ...files, AWS_PROFILE: 'swift', AWS_ENDPOINT_URL: server.endpoint });
  assert.equal(byVariable.code, 0, byVariable.stderr);
  const unknown = await tensioProcess(['inspect', location, '--profile', 'nobody', '--endpoint-url', server.endpoint], files);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.equal(cliErrorCode(unknown.stderr), 'BAD_CREDENTIALS');
  const far = await tensioProcess(['inspect', location, '--profile', 'far', '--endpoint-url', server.endpoint], files);
  assert.equal(far.code, 1, far.stderr);
  assert.equal(cliErrorCode(far.stderr), 'WRONG_REGION');
  assert.match(far.stderr, /--region us-east-1/);
  const overridden = await tensioProcess(['inspect', location, '--profile', 'far', '--region', 'us-east-1', '--endpoint-url', server.endpoint], files);
  assert.equal(overridden.code, 0, overridden.stderr);
});

test('--no-sign-request reads a PUBLIC bucket (Swift ACL .r:*) with unsigned requests; a private one is ACCESS_DENIED', { skip }, async (t) => {
  const { server, client, bucket } = env.current!;
  const dir = await tempDir(t);
  const model = join(dir, 'model.safetensors');
  const values = new Float32Array(64).map((_, i) => i * 0.5);
  await writeWithFormat('safetensors', model, { weight: createTensor('float32', [8, 8], values) });
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(model);
  await client.send(new CreateBucketCommand({ Bucket: PUBLIC_BUCKET }));
  await client.send(new PutBucketAclCommand({ Bucket: PUBLIC_BUCKET, ACL: 'public-read' }));
  await client.send(new PutObjectCommand({ Bucket: PUBLIC_BUCKET, Key: 'open/model.safetensors', Body: bytes }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'closed/model.safetensors', Body: bytes }));
  const publicEndpoint = `${server.endpoint}/v1/AUTH_test`; // Swift's URL of the account's containers
  useAwsEnvironment({}); // no credentials anywhere: unsigned requests must not need any

  const anonymous = { endpoint: publicEndpoint, noSignRequest: true };
  const source = await s3Source(`s3://${PUBLIC_BUCKET}/open/model.safetensors`, anonymous);
  assert.equal(source.size, bytes.byteLength);
  assert.deepEqual(await source.read(source.size - 16, 16), new Uint8Array(bytes.subarray(bytes.byteLength - 16)));
  await source.close();
  await assert.rejects(s3Source(`s3://${bucket}/closed/model.safetensors`, anonymous), (e) => isTensioError(e, 'ACCESS_DENIED') && (e as Error).message.includes(`s3://${bucket}/closed/model.safetensors`));

  const inspected = await tensioProcess(['inspect', `s3://${PUBLIC_BUCKET}/open/model.safetensors`, '--json', '--no-sign-request', '--endpoint-url', publicEndpoint], {});
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.deepEqual((JSON.parse(inspected.stdout) as { tensors: Array<{ shape: number[] }> }).tensors[0]!.shape, [8, 8]);
  const out = join(dir, 'copy.npz');
  const converted = await tensioProcess(['convert', `s3://${PUBLIC_BUCKET}/open/model.safetensors`, out, '--no-sign-request', '--endpoint-url', publicEndpoint], {});
  assert.equal(converted.code, 0, converted.stderr);
  const refused = await tensioProcess(['inspect', `s3://${bucket}/closed/model.safetensors`, '--no-sign-request', '--endpoint-url', publicEndpoint], {});
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(cliErrorCode(refused.stderr), 'ACCESS_DENIED');
});
