/**
 * A real S3-compatible server on loopback for the S3 tests: OpenStack Swift with its
 * `s3api` middleware, from Debian's packages (swift-proxy, swift-account,
 * swift-container, swift-object). {@link startSwiftS3} writes the configuration and
 * one-replica rings into a temporary folder (test/helpers/swift-s3-config.py), starts
 * the four servers on free 127.0.0.1 ports, waits until the proxy answers, and returns
 * a handle whose `stop()` ends exactly those four processes by id and removes the
 * folder. Without the packages, {@link swiftSkip} gives the skip reason.
 *
 * Credentials: access key `test:tester`, secret `testing` (tempauth, admin of its
 * account); `test2:reader` / `reading` is a second account with no rights on the first
 * one's buckets (access denied).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SYSTEM_PYTHON = '/usr/bin/python3';
const SERVERS = ['account', 'container', 'object', 'proxy'] as const;
/**
 * How long the four servers may take to answer: about 5 s on a quiet machine, 35-45 s
 * measured at load average 15-20 on 2 cores (each imports eventlet and swift); the
 * limit leaves room for worse before a test fails with the servers' logs.
 */
const SWIFT_STARTUP_MS = 150_000;

/** Access key and secret of the test account (tempauth `test:tester`). */
export const SWIFT_CREDENTIALS = { accessKeyId: 'test:tester', secretAccessKey: 'testing' } as const;
/** A second account with no rights on the first one's buckets. */
export const SWIFT_OTHER_CREDENTIALS = { accessKeyId: 'test2:reader', secretAccessKey: 'reading' } as const;

/** A running Swift. */
export interface SwiftS3Server {
  /** `http://127.0.0.1:PORT` of the proxy (the S3 endpoint). */
  readonly endpoint: string;
  /** Process ids of the four servers. */
  readonly pids: readonly number[];
  /** The server logs (for a failing test's message). */
  logs(): Promise<string>;
  /** Ends the four processes by id and removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

let skipReason: string | false | undefined;

/**
 * `false` when Swift can be started here, else `skipped: <why>` (packages missing).
 * Set TENSIO_S3_TESTS=0 to skip on purpose.
 */
export function swiftSkip(): string | false {
  if (skipReason !== undefined) return skipReason;
  if (process.env.TENSIO_S3_TESTS === '0') return (skipReason = 'skipped: TENSIO_S3_TESTS=0');
  const missing = SERVERS.map((name) => `/usr/bin/swift-${name}-server`).find((path) => !existsSync(path));
  if (missing) return (skipReason = `skipped: ${missing} not installed (apt-get install --no-install-recommends swift-proxy swift-account swift-container swift-object; .ci/run does)`);
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import swift.common.middleware.s3api, swift.common.ring'], { encoding: 'utf8' });
  if (probe.status !== 0) return (skipReason = `skipped: ${SYSTEM_PYTHON} cannot import swift's s3api (${probe.stderr.trim().split('\n').pop() ?? 'import failed'})`);
  if (!existsSync('/etc/swift/swift.conf')) return (skipReason = 'skipped: /etc/swift/swift.conf missing (the swift packages write it)');
  return (skipReason = false);
}

/**
 * `count` distinct free loopback ports. The listeners stay open until all are chosen:
 * closing each before asking for the next can hand out the same port twice (seen here:
 * the proxy and the container server given one port, and start-up hung until its limit).
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveServer(server));
  })));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolveClose) => server.close(() => resolveClose()))));
  return ports;
}

/** Waits until every server answers HTTP at all (the proxy's healthcheck with 200). */
async function waitForServers(ports: readonly number[], children: ChildProcess[], deadlineMs: number): Promise<void> {
  const started = Date.now();
  const answering = new Set<number>();
  for (;;) {
    const dead = children.find((child) => child.exitCode !== null);
    if (dead) throw new Error(`a swift server exited during start-up (code ${dead.exitCode})`);
    for (const [index, port] of ports.entries()) {
      if (answering.has(port)) continue;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthcheck`);
        await response.arrayBuffer();
        if (index > 0 || response.ok) answering.add(port);
      } catch {
        // not listening yet
      }
    }
    if (answering.size === ports.length) return;
    if (Date.now() - started > deadlineMs) throw new Error(`swift servers on ports ${ports.join(', ')} did not all answer within ${deadlineMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

/**
 * Starts Swift with S3 (about 5 s on a quiet machine, 35-45 s at load 15-20). Call {@link swiftSkip} first.
 *
 * @example
 * ```ts
 * const swift = await startSwiftS3();
 * after(() => swift.stop());
 * ```
 */
export async function startSwiftS3(options: { startupTimeoutMs?: number } = {}): Promise<SwiftS3Server> {
  const folder = await mkdtemp(join(tmpdir(), 'tensio-swift-'));
  const ports = await freePorts(4);
  const [proxyPort, accountPort, containerPort, objectPort] = ports as [number, number, number, number];
  const config = spawnSync(SYSTEM_PYTHON, [join(HERE, 'swift-s3-config.py'), folder, String(proxyPort), String(accountPort), String(containerPort), String(objectPort)], { encoding: 'utf8' });
  if (config.status !== 0) {
    await rm(folder, { recursive: true, force: true });
    throw new Error(`writing the swift configuration failed: ${config.stderr}`);
  }
  const children: ChildProcess[] = [];
  const logPath = (name: string): string => join(folder, `${name}.log`);
  const { openSync, closeSync } = await import('node:fs');
  for (const name of SERVERS) {
    const log = openSync(logPath(name), 'w');
    children.push(spawn(`/usr/bin/swift-${name}-server`, [join(folder, `${name}-server.conf`)], { stdio: ['ignore', log, log] }));
    closeSync(log);
  }
  let stopped = false;
  const server: SwiftS3Server = {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    pids: children.map((child) => child.pid ?? -1),
    async logs() {
      const parts = await Promise.all(SERVERS.map(async (name) => `== ${name}\n${await readFile(logPath(name), 'utf8').catch(() => '')}`));
      return parts.join('\n');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(children.map((child) => new Promise<void>((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolveStop();
        });
        child.kill('SIGTERM');
      })));
      await rm(folder, { recursive: true, force: true });
    },
  };
  try {
    await waitForServers(ports, children, options.startupTimeoutMs ?? SWIFT_STARTUP_MS);
  } catch (error) {
    const logs = await server.logs();
    await server.stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return server;
}
