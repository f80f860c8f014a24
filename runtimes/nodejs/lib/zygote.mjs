/**
 * A Node.js runtime started before its function is known: a *zygote* (see the Python client's
 * `zygote.py`). Started with `LAMBDABOX_ZYGOTE=1`, `index.mjs` loads the client and waits here
 * for stdin to close: the engine has then mounted the function's code and layers into the
 * running sandbox and written the function's whole environment as one JSON object. The
 * environment replaces `process.env` (assigning `TZ` resets Node's time zone), stdin is
 * closed, the process enters `/var/task` and the client carries on as if started for the
 * function.
 */

import { readSync } from 'node:fs';

/** Blocks until the engine hands this runtime a function; exits if it never does. */
export function awaitAssignment(fd = 0) {
  const chunks = [];
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  if (chunks.length === 0) process.exit(0); // retired unused
  const assigned = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  replaceEnv(process.env, assigned);
  process.chdir(assigned.LAMBDA_TASK_ROOT || '/var/task');
}

/** Makes `env` hold exactly `assigned`, in place (process.env is the same object everywhere). */
export function replaceEnv(env, assigned) {
  for (const key of Object.keys(env)) {
    if (!(key in assigned)) delete env[key];
  }
  for (const [key, value] of Object.entries(assigned)) {
    // Assigning TZ, even the same value, resets Node's time zone caches.
    if (env[key] !== String(value)) env[key] = String(value);
  }
}
