/**
 * The context object of an invocation and the callback functions handed to the handler,
 * with the semantics of AWS's nodejs20.x runtime.
 *
 * Context fields: callbackWaitsForEmptyEventLoop (get/set), succeed, fail, done,
 * functionVersion, functionName, memoryLimitInMB (a string), logGroupName, logStreamName,
 * clientContext and identity (parsed JSON, or undefined), invokedFunctionArn, awsRequestId,
 * tenantId, getRemainingTimeInMillis().
 *
 * Completion: the first call of callback/done/succeed/fail wins, later ones are ignored.
 * An error is posted at once. A result given to `callback` is posted when the event loop is
 * empty (`beforeExit`), unless `context.callbackWaitsForEmptyEventLoop = false`; a result
 * given to done/succeed, or returned by an async handler, is posted at once.
 */

const HEADER = {
  ClientContext: 'lambda-runtime-client-context',
  CognitoIdentity: 'lambda-runtime-cognito-identity',
  ARN: 'lambda-runtime-invoked-function-arn',
  AWSRequestId: 'lambda-runtime-aws-request-id',
  DeadlineMs: 'lambda-runtime-deadline-ms',
  XRayTrace: 'lambda-runtime-trace-id',
  TenantId: 'lambda-runtime-aws-tenant-id',
};

function lowercaseKeys(original) {
  const out = {};
  for (const key of Object.keys(original)) {
    out[key.toLowerCase()] = original[key];
  }
  return out;
}

function parseJson(text, name) {
  if (text === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

export class InvokeContext {
  constructor(headers, env = process.env) {
    this.headers = lowercaseKeys(headers);
    this.env = env;
  }

  get invokeId() {
    const id = this.headers[HEADER.AWSRequestId];
    if (!id) {
      throw new Error('invocation id is missing or invalid');
    }
    return id;
  }

  /** Add the environment's and the headers' data to the callback context (may throw). */
  attachEnvironmentData(callbackContext) {
    this.forwardXRay();
    return Object.assign(callbackContext, this.environmentData(), this.headerData());
  }

  environmentData() {
    const env = this.env;
    return {
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    };
  }

  headerData() {
    const deadline = this.headers[HEADER.DeadlineMs];
    return {
      clientContext: parseJson(this.headers[HEADER.ClientContext], 'ClientContext'),
      identity: parseJson(this.headers[HEADER.CognitoIdentity], 'CognitoIdentity'),
      invokedFunctionArn: this.headers[HEADER.ARN],
      awsRequestId: this.headers[HEADER.AWSRequestId],
      tenantId: this.headers[HEADER.TenantId],
      getRemainingTimeInMillis: function () {
        return deadline - Date.now();
      },
    };
  }

  forwardXRay() {
    if (this.headers[HEADER.XRayTrace]) {
      this.env._X_AMZN_TRACE_ID = this.headers[HEADER.XRayTrace];
    } else {
      delete this.env._X_AMZN_TRACE_ID;
    }
  }
}

/**
 * The `beforeExit` hook: one replaceable listener, called by `process.on('beforeExit')`
 * when the event loop has nothing left to do.
 */
export class BeforeExitListener {
  constructor() {
    this.reset();
  }

  invoke() {
    this.listener();
  }

  reset() {
    this.listener = () => {};
  }

  set(listener) {
    this.listener = listener;
  }
}

function rawCallbackContext({ client, id, scheduleNext, beforeExit, logError }) {
  // Set when the process is about to exit on a crash: nothing more is posted for this request.
  let abandoned = false;
  const postError = (err, callback) => {
    if (abandoned) {
      return;
    }
    logError('Invoke Error', err);
    client.postInvocationError(err, id, callback);
  };

  let isCompleteInvoked = false;
  const complete = (result, callback) => {
    if (abandoned) {
      return;
    }
    if (isCompleteInvoked) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, callback);
  };

  let waitForEmptyEventLoop = true;

  const callback = function (err, result) {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      beforeExit.set(() => {
        setImmediate(() => complete(result, scheduleNext));
      });
    }
  };

  const done = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

  const callbackContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed,
    fail,
    done,
  };
  const markCompleted = () => {
    isCompleteInvoked = true;
  };
  const abandon = () => {
    abandoned = true;
    beforeExit.reset();
  };
  return [callback, callbackContext, markCompleted, abandon];
}

/**
 * `[callback, callbackContext, markCompleted, abandon]` for one invocation. Only the first
 * call of callback/succeed/fail/done has an effect. `abandon()` is for a crash: AWS's runtime
 * posts the crash synchronously and exits, so the invocation can complete no other way; here
 * the post is asynchronous, and abandoning keeps a late result from being posted meanwhile.
 */
export function buildCallbackContext(options) {
  const [callback, callbackContext, markCompleted, abandon] = rawCallbackContext(options);
  let finished = false;
  const onlyAllowFirstCall = (toWrap) =>
    function (...args) {
      if (!finished) {
        toWrap(...args);
        finished = true;
      }
    };
  callbackContext.succeed = onlyAllowFirstCall(callbackContext.succeed);
  callbackContext.fail = onlyAllowFirstCall(callbackContext.fail);
  callbackContext.done = onlyAllowFirstCall(callbackContext.done);
  return [onlyAllowFirstCall(callback), callbackContext, markCompleted, abandon];
}
