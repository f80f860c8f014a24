/**
 * INIT of the Node.js runtime: console, process-level error handlers, handler loading, and
 * the start of the invocation loop. Everything process-wide is passed in, so tests can run
 * it against a Runtime API client double and a fake process.
 *
 * Errors, as on AWS:
 * - a handler that cannot be loaded is logged as `Uncaught Exception`, posted to
 *   `/runtime/init/error`, and the process exits with 129;
 * - an uncaught exception later is posted as the current invocation's error, exit 129;
 * - an unhandled rejection becomes `Runtime.UnhandledPromiseRejection` (message
 *   `String(reason)`), posted as the current invocation's error, exit 128.
 */

import { BeforeExitListener } from './context.mjs';
import { UnhandledPromiseRejection } from './errors.mjs';
import { checkForDeprecatedCallback, getHandlerMetadata, loadHandler } from './handler.mjs';
import { patchConsole } from './logging.mjs';
import { Runtime } from './runtime.mjs';

/**
 * @param {object} options
 * @param {string} options.appRoot LAMBDA_TASK_ROOT
 * @param {string} options.handlerString _HANDLER
 * @param {object} options.client the Runtime API client (see runtime.mjs)
 * @param {object} [options.proc] the process: `on(event, listener)` and `exit(code)`
 * @param {object} [options.env] the environment
 * @param {string|URL} [options.requireFrom] what require() resolves from (index.mjs)
 * @param {Function} [options.write] where console output goes
 */
export async function start({
  appRoot,
  handlerString,
  client,
  proc = process,
  env = process.env,
  requireFrom,
  write,
}) {
  const logError = patchConsole({ env, write });
  const exit = (code) => proc.exit(code);

  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => exit(128)),
  };
  proc.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  proc.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });

  const beforeExit = new BeforeExitListener();
  proc.on('beforeExit', () => beforeExit.invoke());

  let handler;
  let metadata;
  try {
    handler = await loadHandler(appRoot, handlerString, { requireFrom });
    metadata = getHandlerMetadata(handler);
  } catch (error) {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
    return undefined;
  }
  checkForDeprecatedCallback(metadata, env);

  const runtime = new Runtime({
    client,
    handler,
    metadata,
    errorCallbacks,
    beforeExit,
    logError,
    exit,
    env,
  });
  runtime.scheduleIteration();
  return runtime;
}
