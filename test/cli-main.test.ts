import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cliErrorCode, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const COMMANDS = ['inspect', 'convert', 'verify', 'selftest'];

test('tensio --help lists every command and the exit codes, exit 0', async () => {
  const run = await runCli(['--help']);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, '');
  for (const command of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  for (const code of ['0', '1', '2', '3', '130']) assert.match(run.stdout, new RegExp(`^  ${code} `, 'm'));
});

test('help for each command: tensio help CMD and tensio CMD --help agree', async () => {
  for (const command of COMMANDS) {
    const viaHelp = await runCli(['help', command]);
    const viaFlag = await runCli([command, '--help']);
    const viaShort = await runCli([command, '-h']);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaFlag.code, 0);
    assert.equal(viaShort.code, 0);
    assert.match(viaHelp.stdout, new RegExp(`^Usage: tensio ${command}`, 'm'));
    assert.match(viaHelp.stdout, /^Examples:/m);
    assert.match(viaHelp.stdout, /Exit codes:/);
    assert.equal(viaFlag.stdout, viaHelp.stdout);
    assert.equal(viaShort.stdout, viaHelp.stdout);
  }
});

test('tensio --version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const run = await runCli([flag]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `tensio ${pkg.version}\n`);
  }
});

test('usage errors exit 2 with one USAGE line and a hint to --help', async () => {
  const cases: string[][] = [
    [],
    ['frobnicate'],
    ['--frobnicate'],
    ['inspect'],
    ['inspect', 'a', 'b'],
    ['inspect', 'a', '--nope'],
    ['convert', 'only-one'],
    ['convert', 'a', 'b', '--to'],
    ['verify'],
    ['selftest', 'extra'],
    ['help', 'frobnicate'],
  ];
  for (const args of cases) {
    const run = await runCli(args);
    assert.equal(run.code, 2, `tensio ${args.join(' ')}`);
    if (args.length > 0) {
      assert.equal(cliErrorCode(run.stderr), 'USAGE', `tensio ${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /--help/);
    }
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('bad input exits 1 with one "tensio: CODE: message" line and no stack trace', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['inspect', 'missing.safetensors'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'NOT_FOUND');
  assert.equal(run.stderr.trimEnd().split('\n').length, 1);
  assert.equal(run.stdout, '');
});

test('--debug adds a stack trace to errors', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['inspect', 'missing.safetensors', '--debug'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'NOT_FOUND');
  assert.match(run.stderr, /\n\s+at /);
});

test('an unknown --from format is bad input (exit 1, UNKNOWN_FORMAT)', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['inspect', 'x.bin', '--from', 'no-such-format'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'UNKNOWN_FORMAT');
});

test('with --json, a failing command still prints one JSON object on stdout', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli(['inspect', 'missing.safetensors', '--json'], { cwd: dir });
  assert.equal(run.code, 1);
  const doc = JSON.parse(run.stdout) as { error: { code: string; message: string } };
  assert.equal(doc.error.code, 'NOT_FOUND');
  assert.equal(cliErrorCode(run.stderr), 'NOT_FOUND');
  const plain = await runCli(['inspect', 'missing.safetensors'], { cwd: dir });
  assert.equal(plain.stdout, '', 'without --json nothing goes to stdout');
});

test('issue 8 bug 13: with --json, a usage error (exit 2) prints one JSON object too', async (t) => {
  const dir = await tempDir(t);
  for (const args of [['inspect', '--json'], ['convert', 'a.npz', '--json'], ['inspect', 'x.npz', '--json', '--no-such-option']]) {
    const run = await runCli(args, { cwd: dir });
    assert.equal(run.code, 2, args.join(' '));
    const doc = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'USAGE', args.join(' '));
    assert.ok(doc.error.message.length > 0);
    assert.equal(cliErrorCode(run.stderr), 'USAGE');
  }
});
