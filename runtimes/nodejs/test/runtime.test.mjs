/**
 * The invocation loop in-process, with a Runtime API client double and a hand-driven
 * beforeExit hook: async and callback semantics, context, and error serialisation.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { BeforeExitListener } from '../lib/context.mjs';
import { NODEJS_EXIT_MESSAGE, toRapidResponse } from '../lib/errors.mjs';
import { getHandlerMetadata } from '../lib/handler.mjs';
import { serializeResponse } from '../lib/rapid-client.mjs';
import { Runtime } from '../lib/runtime.mjs';

const ENV = {
  AWS_LAMBDA_FUNCTION_NAME: 'my-function',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/my-function',
  AWS_LAMBDA_LOG_STREAM_NAME: '2024/01/01/[$LATEST]abc',
};

/** A Runtime API client double: serves queued events, records posts as AWS's body would be. */
class FakeClient {
  constructor(events) {
    this.events = events.map((e, i) => ({
      bodyJson: typeof e === 'string' ? e : JSON.stringify(e.body ?? e),
      headers: {
        'Lambda-Runtime-Aws-Request-Id': `req-${i + 1}`,
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 5000),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:my-function',
        ...(e.headers ?? {}),
      },
    }));
    this.posts = [];
    this.waiters = [];
  }

  nextInvocation() {
    if (this.events.length > 0) {
      return Promise.resolve(this.events.shift());
    }
    this.waiters.forEach((w) => w());
    return new Promise(() => {});
  }

  postInvocationResponse(result, id, callback) {
    this.posts.push({ kind: 'response', id, body: JSON.parse(serializeResponse(result)) });
    callback();
  }

  postInvocationError(error, id, callback) {
    this.posts.push({ kind: 'error', id, body: toRapidResponse(error) });
    callback();
  }

  /** Resolves once every queued event has been taken and the loop asks for another. */
  drained() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

function makeRuntime(handler, events, env = { ...ENV }) {
  const client = new FakeClient(events);
  const beforeExit = new BeforeExitListener();
  const logged = [];
  const exits = [];
  const runtime = new Runtime({
    client,
    handler,
    metadata: getHandlerMetadata(handler),
    errorCallbacks: {},
    beforeExit,
    logError: (message, error) => logged.push([message, error]),
    exit: (code) => exits.push(code),
    env,
  });
  runtime.scheduleIteration();
  return { client, beforeExit, logged, exits, env };
}

describe('async handlers', () => {
  test('results are posted as JSON, undefined as null, in order, module state kept', async () => {
    let calls = 0;
    const handler = async (event) => {
      calls += 1;
      return event.undef ? undefined : { echo: event, calls };
    };
    const { client } = makeRuntime(handler, [{ a: 1 }, { undef: true }, { b: 2 }]);
    await client.drained();
    assert.deepEqual(client.posts, [
      { kind: 'response', id: 'req-1', body: { echo: { a: 1 }, calls: 1 } },
      { kind: 'response', id: 'req-2', body: null },
      { kind: 'response', id: 'req-3', body: { echo: { b: 2 }, calls: 3 } },
    ]);
  });

  test('a rejection is posted with AWS error shape and logged as Invoke Error', async () => {
    const handler = async () => {
      throw new TypeError('bad input');
    };
    const { client, logged } = makeRuntime(handler, [{}]);
    await client.drained();
    const [post] = client.posts;
    assert.equal(post.kind, 'error');
    assert.equal(post.body.errorType, 'TypeError');
    assert.equal(post.body.errorMessage, 'bad input');
    assert.equal(post.body.trace[0], 'TypeError: bad input');
    assert.match(post.body.trace[1], /^ {4}at (Runtime\.)?handler \(/);
    assert.equal(logged[0][0], 'Invoke Error');
  });

  test('a result JSON cannot encode becomes "Unable to stringify response body"', async () => {
    const handler = async () => {
      const loop = {};
      loop.loop = loop;
      return loop;
    };
    const { client } = makeRuntime(handler, [{}]);
    await client.drained();
    assert.equal(client.posts.length, 1);
    assert.equal(client.posts[0].kind, 'error');
    assert.equal(client.posts[0].body.errorType, 'Error');
    assert.equal(client.posts[0].body.errorMessage, 'Unable to stringify response body');
  });

  test('thrown non-Error values: errorType is typeof, no trace', async () => {
    const { client } = makeRuntime(async () => {
      throw 'plain string'; // eslint-disable-line no-throw-literal
    }, [{}]);
    await client.drained();
    assert.deepEqual(client.posts[0].body, { errorType: 'string', errorMessage: 'plain string', trace: [] });
  });

  test('an async handler whose promise never settles fails with Runtime.NodeJsExit on an empty loop', async () => {
    const { client, beforeExit, logged } = makeRuntime(async () => new Promise(() => {}), [{}]);
    await tick();
    await tick();
    assert.equal(client.posts.length, 0);
    beforeExit.invoke();
    await client.drained();
    assert.equal(client.posts[0].body.errorType, 'Runtime.NodeJsExit');
    assert.equal(client.posts[0].body.errorMessage, NODEJS_EXIT_MESSAGE);
    assert.equal(logged[0][0], 'Invoke Error');
  });

  test('an invalid event body fails the invocation with the parse error', async () => {
    const { client } = makeRuntime(async () => 'never', ['{not json']);
    await client.drained();
    assert.equal(client.posts[0].body.errorType, 'SyntaxError');
  });
});

describe('callback handlers', () => {
  test('callbackWaitsForEmptyEventLoop (default true): the result waits for beforeExit', async () => {
    const handler = (event, context, callback) => {
      assert.equal(context.callbackWaitsForEmptyEventLoop, true);
      callback(null, { waited: event.n });
    };
    const { client, beforeExit } = makeRuntime(handler, [{ n: 1 }]);
    await tick();
    await tick();
    assert.equal(client.posts.length, 0);
    beforeExit.invoke();
    await client.drained();
    assert.deepEqual(client.posts, [{ kind: 'response', id: 'req-1', body: { waited: 1 } }]);
  });

  test('callbackWaitsForEmptyEventLoop = false: the result is posted at once', async () => {
    const handler = (event, context, callback) => {
      context.callbackWaitsForEmptyEventLoop = false;
      callback(null, 'now');
    };
    const { client } = makeRuntime(handler, [{}, {}]);
    await client.drained();
    assert.deepEqual(client.posts.map((p) => p.body), ['now', 'now']);
  });

  test('callback(error) is posted at once; only the first completion counts', async () => {
    const handler = (event, context, callback) => {
      callback(new Error('first'));
      callback(null, 'second');
      context.succeed('third');
    };
    const { client } = makeRuntime(handler, [{}]);
    await client.drained();
    assert.equal(client.posts.length, 1);
    assert.equal(client.posts[0].body.errorMessage, 'first');
  });

  test('context.succeed / done / fail', async () => {
    const handler = (event, context) => {
      if (event.op === 'succeed') context.succeed({ s: 1 });
      if (event.op === 'done') context.done(null, 'd');
      if (event.op === 'doneErr') context.done(new RangeError('r'));
      if (event.op === 'fail') context.fail(new Error('f'));
      if (event.op === 'failEmpty') context.fail();
    };
    const ops = ['succeed', 'done', 'doneErr', 'fail', 'failEmpty'];
    const { client } = makeRuntime(handler, ops.map((op) => ({ op })));
    await client.drained();
    assert.deepEqual(
      client.posts.map((p) => [p.kind, p.kind === 'error' ? [p.body.errorType, p.body.errorMessage] : p.body]),
      [
        ['response', { s: 1 }],
        ['response', 'd'],
        ['error', ['RangeError', 'r']],
        ['error', ['Error', 'f']],
        ['error', ['string', 'handled']],
      ],
    );
  });

  test('a synchronous throw is posted as the error', async () => {
    const { client } = makeRuntime(() => {
      throw new Error('sync');
    }, [{}]);
    await client.drained();
    assert.equal(client.posts[0].body.errorMessage, 'sync');
  });

  test('a non-async handler that never completes succeeds with null on an empty loop', async () => {
    const { client, beforeExit } = makeRuntime(() => {}, [{}]);
    await tick();
    assert.equal(client.posts.length, 0);
    beforeExit.invoke();
    await client.drained();
    assert.deepEqual(client.posts, [{ kind: 'response', id: 'req-1', body: null }]);
  });
});

describe('context', () => {
  test('fields from the environment and the headers', async () => {
    let seen;
    const handler = async (event, context) => {
      seen = {
        functionName: context.functionName,
        functionVersion: context.functionVersion,
        memoryLimitInMB: context.memoryLimitInMB,
        logGroupName: context.logGroupName,
        logStreamName: context.logStreamName,
        invokedFunctionArn: context.invokedFunctionArn,
        awsRequestId: context.awsRequestId,
        identity: context.identity,
        clientContext: context.clientContext,
        remaining: context.getRemainingTimeInMillis(),
        waits: context.callbackWaitsForEmptyEventLoop,
        methods: [typeof context.succeed, typeof context.fail, typeof context.done],
      };
    };
    const identity = { cognitoIdentityId: 'id', cognitoIdentityPoolId: 'pool' };
    const clientContext = { client: { installation_id: 'i' }, custom: { k: 'v' }, env: {} };
    const { client, env } = makeRuntime(handler, [
      {
        body: {},
        headers: {
          'Lambda-Runtime-Cognito-Identity': JSON.stringify(identity),
          'Lambda-Runtime-Client-Context': JSON.stringify(clientContext),
          'Lambda-Runtime-Trace-Id': 'Root=1-abc',
        },
      },
    ]);
    await client.drained();
    const { remaining, ...fields } = seen;
    assert.deepEqual(fields, {
      functionName: 'my-function',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/my-function',
      logStreamName: '2024/01/01/[$LATEST]abc',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:my-function',
      awsRequestId: 'req-1',
      identity,
      clientContext,
      waits: true,
      methods: ['function', 'function', 'function'],
    });
    assert.ok(remaining > 4000 && remaining <= 5000, String(remaining));
    assert.equal(env._X_AMZN_TRACE_ID, 'Root=1-abc');
  });

  test('absent optional headers are undefined and the trace variable is removed', async () => {
    let seen;
    const env = { ...ENV, _X_AMZN_TRACE_ID: 'stale' };
    const client = makeRuntime(async (e, c) => {
      seen = [c.identity, c.clientContext];
    }, [{}], env).client;
    await client.drained();
    assert.deepEqual(seen, [undefined, undefined]);
    assert.equal(env._X_AMZN_TRACE_ID, undefined);
  });

  test('a client context that is not JSON fails the invocation', async () => {
    const { client } = makeRuntime(async () => 1, [{ body: {}, headers: { 'Lambda-Runtime-Client-Context': '{x' } }]);
    await client.drained();
    assert.equal(client.posts[0].kind, 'error');
    assert.match(client.posts[0].body.errorMessage, /^Cannot parse ClientContext as json: SyntaxError: /);
  });
});
