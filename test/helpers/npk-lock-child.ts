/**
 * Child process of the lock race tests. `race DIR0,DIR1,... START_MS STEP_MS`: for trial
 * i, waits until START_MS + i × STEP_MS, tries to take the lock of DIRi, prints
 * `trial <i> WON <nonce>` or `trial <i> LOCKED` (with a random pause of up to 30 ms
 * between reading a lock and acting on it, to widen race windows), and keeps every lock it won (the process
 * stays alive, so its locks are live) until its stdin closes.
 * `hold STORE`: opens the store for writing, prints `holding`, waits for stdin to close.
 */
import { npkAcquireLock, npkLockFileSystem } from '../../src/npk/lock.js';
import { NumPack } from '../../src/npk/index.js';
import { isTensioError } from '../../src/core/errors.js';

const [mode, ...args] = process.argv.slice(2);
const stdinClosed = new Promise<void>((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.stdin.resume();
});

if (mode === 'race') {
  // Like strace's delay_exit: a random pause between reading a lock and acting on it
  // makes the interleavings that break a naive takeover happen in a few trials.
  npkLockFileSystem.afterReadingOwner = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
  const dirs = args[0]!.split(',');
  const start = Number(args[1]);
  const step = Number(args[2]);
  for (const [index, dir] of dirs.entries()) {
    const wait = start + index * step - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const lock = await npkAcquireLock(dir);
      process.stdout.write(`trial ${index} WON ${lock.nonce}\n`);
    } catch (error) {
      if (!isTensioError(error, 'LOCKED')) throw error;
      process.stdout.write(`trial ${index} LOCKED\n`);
    }
  }
  process.stdout.write('done\n');
  await stdinClosed;
} else if (mode === 'hold') {
  const npk = await NumPack.open(args[0]!);
  process.stdout.write('holding\n');
  await stdinClosed;
  await npk.close();
}
