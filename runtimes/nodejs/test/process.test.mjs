/**
 * Process-level behaviour, in a real child Node process (testsupport/driver.mjs) with a
 * Runtime API client double: waiting for the empty event loop, uncaught exceptions,
 * unhandled rejections, INIT failures, and the exit codes AWS's runtime uses.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTaskRoot, removeTaskRoot } from '../testsupport/task.mjs';

const DRIVER = fileURLToPath(new URL('../testsupport/driver.mjs', import.meta.url));
const roots = [];
after(() => roots.forEach(removeTaskRoot));

function runDriver(files, handler, events) {
  const root = makeTaskRoot(files);
  roots.push(root);
  const child = spawnSync(process.execPath, [DRIVER, root, handler, JSON.stringify(events)], {
    encoding: 'utf8',
    timeout: 20000,
    env: { PATH: process.env.PATH, AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING: '1' },
  });
  const line = child.stderr.split('\n').find((l) => l.startsWith('POSTS '));
  assert.ok(line, `no POSTS line; stderr: ${child.stderr}`);
  const { code, posts } = JSON.parse(line.slice(6));
  return { status: child.status, code, posts, stdout: child.stdout };
}

const CALLBACK_APP = `
exports.handler = (event, context, callback) => {
  if (event.check) {
    context.callbackWaitsForEmptyEventLoop = false;
    return callback(null, globalThis.timerFired === true);
  }
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => { globalThis.timerFired = true; }, event.delay);
  callback(null, 'first');
};
`;

describe('callbackWaitsForEmptyEventLoop', () => {
  test('true: the response is sent once pending timers have run', () => {
    const { posts, status } = runDriver({ 'index.js': CALLBACK_APP }, 'index.handler', [{ wait: true, delay: 50 }, { check: true }]);
    assert.equal(status, 0);
    assert.deepEqual(posts.map((p) => p.body), ['first', true]);
  });

  test('false: the response is sent at once, the timer is still pending at the next invocation', () => {
    const { posts } = runDriver({ 'index.js': CALLBACK_APP }, 'index.handler', [{ wait: false, delay: 5000 }, { check: true }]);
    assert.deepEqual(posts.map((p) => p.body), ['first', false]);
  });

  test('a non-async handler that never calls back succeeds with null once the loop is empty', () => {
    const app = 'exports.handler = (event, context, callback) => { setTimeout(() => {}, 20); };';
    const { posts } = runDriver({ 'index.js': app }, 'index.handler', [{}]);
    assert.deepEqual(posts, [{ kind: 'response', id: 'req-1', body: null }]);
  });

  test('an async handler that never settles fails with Runtime.NodeJsExit', () => {
    const app = 'exports.handler = async () => new Promise(() => {});';
    const { posts, stdout } = runDriver({ 'index.js': app }, 'index.handler', [{}, {}]);
    assert.deepEqual(
      posts.map((p) => [p.kind, p.type]),
      [
        ['error', 'Runtime.NodeJsExit'],
        ['error', 'Runtime.NodeJsExit'],
      ],
    );
    assert.match(stdout, /\treq-1\tERROR\tInvoke Error \t\{"errorType":"Runtime.NodeJsExit"/);
  });
});

describe('crashes', () => {
  test('an uncaught exception is posted for the current invocation, then exit 129', () => {
    const app = `exports.handler = async () => { setTimeout(() => { throw new TypeError('late'); }, 10); return new Promise(() => {}); };`;
    const { posts, code, stdout } = runDriver({ 'index.js': app }, 'index.handler', [{}, {}]);
    assert.equal(code, 129);
    assert.deepEqual(posts, [{ kind: 'error', id: 'req-1', type: 'TypeError', message: 'late' }]);
    assert.match(stdout, /\treq-1\tERROR\tUncaught Exception \t\{"errorType":"TypeError","errorMessage":"late"/);
  });

  test('an unhandled rejection is Runtime.UnhandledPromiseRejection, then exit 128', () => {
    const app = `exports.handler = async () => { Promise.reject(new Error('forgotten')); await new Promise((r) => setTimeout(r, 20)); return 'never'; };`;
    const { posts, code, stdout } = runDriver({ 'index.js': app }, 'index.handler', [{}]);
    assert.equal(code, 128);
    assert.deepEqual(posts, [
      { kind: 'error', id: 'req-1', type: 'Runtime.UnhandledPromiseRejection', message: 'Error: forgotten' },
    ]);
    assert.match(stdout, /\tERROR\tUnhandled Promise Rejection \t\{"errorType":"Runtime.UnhandledPromiseRejection","errorMessage":"Error: forgotten","reason":\{"errorType":"Error"/);
  });
});

describe('INIT', () => {
  test('a missing module is posted to /init/error, logged as Uncaught Exception, exit 129', () => {
    const { posts, code, stdout } = runDriver({}, 'index.handler', [{}]);
    assert.equal(code, 129);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].kind, 'init_error');
    assert.equal(posts[0].type, 'Runtime.ImportModuleError');
    assert.match(posts[0].message, /^Error: Cannot find module 'index'\nRequire stack:\n- \/.*\/index\.mjs$/);
    assert.match(stdout, /^\S+Z\tundefined\tERROR\tUncaught Exception \t\{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'index'\\nRequire stack:/);
  });

  test('an exception thrown by the module at load keeps its type', () => {
    const { posts, code } = runDriver({ 'index.mjs': 'throw new RangeError("bad config");' }, 'index.handler', [{}]);
    assert.equal(code, 129);
    assert.deepEqual(posts, [{ kind: 'init_error', type: 'RangeError', message: 'bad config' }]);
  });

  test('console output during INIT has the request id undefined', () => {
    const app = 'console.log("loading"); exports.handler = async () => "ok";';
    const { posts, stdout } = runDriver({ 'index.js': app }, 'index.handler', [{}]);
    assert.deepEqual(posts, [{ kind: 'response', id: 'req-1', body: 'ok' }]);
    assert.match(stdout, /^\S+Z\tundefined\tINFO\tloading\n$/);
  });
});
