/**
 * The runtime's own error types and AWS's serialisation of errors for the Node.js runtime.
 *
 * Error documents posted to the Runtime API have AWS's Node.js shape:
 * `{"errorType": error.name, "errorMessage": error.message, "trace": error.stack.split("\n")}`,
 * and for a thrown non-Error value `{"errorType": typeof value, "errorMessage": String(value), "trace": []}`.
 */

import { types } from 'node:util';

function isErrorLike(obj) {
  return Boolean(
    obj &&
      obj.name &&
      obj.message &&
      obj.stack &&
      typeof obj.name === 'string' &&
      typeof obj.message === 'string' &&
      typeof obj.stack === 'string',
  );
}

export function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** The error document posted to `/invocation/{id}/error` or `/init/error`. */
export function toRapidResponse(error) {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return {
      errorType: typeof error,
      errorMessage: error.toString(),
      trace: [],
    };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/**
 * An error as AWS logs it in text mode: a tab, then JSON with the name, message, code and
 * stack (as an array of lines) plus the error's own enumerable properties.
 */
export function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => withEnumerableProperties(value));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      { errorType: error.name, errorMessage: error.message, code: error.code },
      error,
    );
    if (typeof error.stack === 'string') {
      ret.stack = error.stack.split('\n');
    }
    return ret;
  }
  return error;
}

export class ImportModuleError extends Error {}
export class HandlerNotFound extends Error {}
export class MalformedHandlerName extends Error {}
export class UserCodeSyntaxError extends Error {}
export class MalformedStreamingHandler extends Error {}
export class InvalidStreamingOperation extends Error {}

export const NODEJS_EXIT_MESSAGE =
  'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes';

export class NodeJsExit extends Error {
  constructor() {
    super(NODEJS_EXIT_MESSAGE);
  }
}

export class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}

for (const cls of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}
