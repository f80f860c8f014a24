/**
 * Test helper: runs the runtime's INIT and loop in a real Node process, with a Runtime API
 * client double instead of HTTP, so that process-level behaviour (beforeExit, uncaught
 * exceptions, unhandled rejections, exit codes) can be observed.
 *
 * argv: <task root> <handler> <events as a JSON array>. Prints one line `POSTS <json>` when
 * the process exits.
 */

import { start } from '../lib/start.mjs';

const [appRoot, handlerString, eventsJson] = process.argv.slice(2);
const events = JSON.parse(eventsJson);
const posts = [];
let n = 0;

process.on('exit', (code) => {
  process.stderr.write(`POSTS ${JSON.stringify({ code, posts })}\n`);
});

const client = {
  nextInvocation() {
    if (events.length === 0) {
      process.exit(0);
    }
    n += 1;
    return Promise.resolve({
      bodyJson: JSON.stringify(events.shift()),
      headers: {
        'lambda-runtime-aws-request-id': `req-${n}`,
        'lambda-runtime-deadline-ms': String(Date.now() + 3000),
      },
    });
  },
  postInvocationResponse(result, id, callback) {
    const body = JSON.stringify(result === undefined ? null : result);
    posts.push({ kind: 'response', id, body: JSON.parse(body) });
    setImmediate(callback);
  },
  postInvocationError(error, id, callback) {
    posts.push({ kind: 'error', id, type: error.name ?? typeof error, message: error.message ?? String(error) });
    setImmediate(callback);
  },
  postInitError(error, callback) {
    posts.push({ kind: 'init_error', type: error.name, message: error.message });
    setImmediate(callback);
  },
};

await start({ appRoot, handlerString, client, requireFrom: new URL('../index.mjs', import.meta.url) });
