/**
 * The invocation loop of the Node.js runtime, as AWS's nodejs20.x runtime runs it.
 *
 * The Runtime API client is a parameter with four methods: `nextInvocation()` (a promise of
 * `{bodyJson, headers}`), `postInvocationResponse(result, id, callback)`,
 * `postInvocationError(error, id, callback)` and `postInitError(error, callback)`; the
 * callbacks run once the post is done. Each iteration starts on `setImmediate`, so that the
 * user's pending work and the `beforeExit` hook behave as on AWS:
 * - a handler that returns a promise is complete when it settles;
 * - a callback result waits for an empty event loop (see context.mjs);
 * - if the event loop empties while nothing completed the invocation, a non-async handler's
 *   invocation succeeds with `null`, an async handler's fails with `Runtime.NodeJsExit`.
 */

import { buildCallbackContext, InvokeContext } from './context.mjs';
import { NodeJsExit } from './errors.mjs';
import { setCurrentRequestId } from './logging.mjs';

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

export class Runtime {
  /**
   * @param {object} options
   * @param {object} options.client the Runtime API client
   * @param {Function} options.handler the user's handler
   * @param {object} options.metadata `getHandlerMetadata(handler)`
   * @param {object} options.errorCallbacks `{uncaughtException, unhandledRejection}`, replaced
   *   per invocation so that a crash is reported against the current request
   * @param {import('./context.mjs').BeforeExitListener} options.beforeExit
   * @param {Function} options.logError `(message, error)` from patchConsole
   * @param {Function} [options.exit] process.exit
   * @param {object} [options.env] process.env
   */
  constructor({ client, handler, metadata, errorCallbacks, beforeExit, logError, exit, env }) {
    this.client = client;
    this.handler = handler;
    this.metadata = metadata;
    this.errorCallbacks = errorCallbacks;
    this.beforeExit = beforeExit;
    this.logError = logError;
    this.exit = exit ?? ((code) => process.exit(code));
    this.env = env ?? process.env;
  }

  /** Start the next iteration at the beginning of the next turn of the event loop. */
  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async handleOnce() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeContext = new InvokeContext(headers, this.env);
    const invokeId = invokeContext.invokeId;
    setCurrentRequestId(invokeId);

    const [callback, callbackContext, markCompleted, abandon] = buildCallbackContext({
      client: this.client,
      id: invokeId,
      scheduleNext: () => this.scheduleIteration(),
      beforeExit: this.beforeExit,
      logError: this.logError,
    });

    try {
      this.setErrorCallbacks(invokeId, abandon);
      this.setDefaultExitListener(invokeId, markCompleted, this.metadata.isAsync);

      const result = this.handler(
        JSON.parse(bodyJson),
        invokeContext.attachEnvironmentData(callbackContext),
        callback,
      );
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  setErrorCallbacks(invokeId, abandon) {
    this.errorCallbacks.uncaughtException = (error) => {
      abandon();
      this.client.postInvocationError(error, invokeId, () => this.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      abandon();
      this.client.postInvocationError(error, invokeId, () => this.exit(128));
    };
  }

  setDefaultExitListener(invokeId, markCompleted, isAsync) {
    this.beforeExit.set(() => {
      markCompleted();
      if (isAsync) {
        const error = new NodeJsExit();
        this.logError('Invoke Error', error);
        this.client.postInvocationError(error, invokeId, () => this.scheduleIteration());
      } else {
        this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration());
      }
    });
  }
}
