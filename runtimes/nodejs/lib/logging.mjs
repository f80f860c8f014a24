/**
 * console as AWS's nodejs20.x runtime patches it.
 *
 * Text format (the default): `<ISO timestamp>\t<request id>\t<LEVEL>\t<util.format(...)>`, with
 * every newline inside the message turned into `\r` so one call is one log event; the request
 * id is `undefined` outside an invocation, as on AWS. `console.log` is `console.info` (INFO).
 * `AWS_LAMBDA_LOG_FORMAT=JSON` writes AWS's JSON records instead, and `AWS_LAMBDA_LOG_LEVEL`
 * silences the levels below it.
 */

import { format } from 'node:util';
import { intoError, toFormatted } from './errors.mjs';

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

export function setCurrentRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

export function currentRequestId() {
  return globalThis[REQUEST_ID];
}

export const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

export function formatTextLine(time, requestId, level, message, params) {
  const line = `${time}\t${requestId}\t${level.name}\t${format(message, ...params)}`;
  return line.replace(/\n/g, '\r') + '\n';
}

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

export function formatJsonLine(time, requestId, level, message, params) {
  const result = { timestamp: time, level: level.name, requestId };
  let text;
  if (params.length === 0) {
    result.message = message;
    try {
      text = JSON.stringify(result, jsonErrorReplacer);
    } catch {
      result.message = format(result.message);
      text = JSON.stringify(result);
    }
  } else {
    result.message = format(message, ...params);
    for (const param of params) {
      if (param instanceof Error) {
        result.errorType = param?.constructor?.name ?? 'UnknownError';
        result.errorMessage = param.message;
        result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
        break;
      }
    }
    text = JSON.stringify(result);
  }
  return text.replace(/\n/g, '\r') + '\n';
}

/**
 * Replace the console's methods. Returns the `logError(message, error)` function the runtime
 * uses to log invocation and init errors in the format of the log mode.
 */
export function patchConsole({
  env = process.env,
  write = (text) => process.stdout.write(text),
  target = console,
} = {}) {
  const json = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const formatLine = json ? formatJsonLine : formatTextLine;
  const minimum = LEVELS[env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const noop = () => {};
  const logAt = (level) =>
    level.priority >= minimum.priority
      ? (message, ...params) =>
          write(formatLine(new Date().toISOString(), currentRequestId(), level, message, params))
      : noop;

  target.trace = logAt(LEVELS.TRACE);
  target.debug = logAt(LEVELS.DEBUG);
  target.info = logAt(LEVELS.INFO);
  target.log = target.info;
  target.warn = logAt(LEVELS.WARN);
  target.error = logAt(LEVELS.ERROR);
  target.fatal = (message, ...params) =>
    write(formatLine(new Date().toISOString(), currentRequestId(), LEVELS.FATAL, message, params));

  return json
    ? (_message, err) => target.error(intoError(err))
    : (message, err) => target.error(message, toFormatted(intoError(err)));
}
