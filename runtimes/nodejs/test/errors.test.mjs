/**
 * Error documents and log formats of the Node.js runtime.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HandlerNotFound,
  ImportModuleError,
  NodeJsExit,
  toFormatted,
  toRapidResponse,
  UnhandledPromiseRejection,
} from '../lib/errors.mjs';
import { formatJsonLine, formatTextLine, LEVELS, patchConsole, setCurrentRequestId } from '../lib/logging.mjs';
import { headerValue, serializeResponse } from '../lib/rapid-client.mjs';

describe('error documents', () => {
  test('errors: name, message and the stack as lines', () => {
    const error = new RangeError('out of range');
    const doc = toRapidResponse(error);
    assert.deepEqual(Object.keys(doc), ['errorType', 'errorMessage', 'trace']);
    assert.equal(doc.errorType, 'RangeError');
    assert.equal(doc.errorMessage, 'out of range');
    assert.deepEqual(doc.trace, error.stack.split('\n'));
  });

  test('custom error names are kept', () => {
    class ValidationError extends Error {}
    ValidationError.prototype.name = 'ValidationError';
    assert.equal(toRapidResponse(new ValidationError('v')).errorType, 'ValidationError');
  });

  test('non-errors: typeof and toString', () => {
    assert.deepEqual(toRapidResponse(42), { errorType: 'number', errorMessage: '42', trace: [] });
    assert.deepEqual(toRapidResponse({ a: 1 }), { errorType: 'object', errorMessage: '[object Object]', trace: [] });
  });

  test('runtime error types are named Runtime.*', () => {
    assert.equal(new ImportModuleError(new Error('x')).name, 'Runtime.ImportModuleError');
    assert.equal(new ImportModuleError(new Error('x')).message, 'Error: x');
    assert.equal(new HandlerNotFound('h').stack.split('\n')[0], 'Runtime.HandlerNotFound: h');
    assert.equal(new NodeJsExit().name, 'Runtime.NodeJsExit');
  });

  test('unhandled rejections carry String(reason)', () => {
    const error = new UnhandledPromiseRejection(new Error('boom'), Promise.resolve());
    assert.equal(error.name, 'Runtime.UnhandledPromiseRejection');
    assert.equal(error.message, 'Error: boom');
    const formatted = JSON.parse(toFormatted(error).slice(1));
    assert.equal(formatted.errorType, 'Runtime.UnhandledPromiseRejection');
    assert.equal(formatted.reason.errorType, 'Error');
    assert.equal(formatted.reason.errorMessage, 'boom');
    assert.deepEqual(formatted.promise, {});
  });

  test('toFormatted: a tab, then the error with its own properties', () => {
    const error = new Error('with code');
    error.code = 'E_CODE';
    error.extra = 1;
    const text = toFormatted(error);
    assert.equal(text[0], '\t');
    const parsed = JSON.parse(text.slice(1));
    assert.deepEqual(Object.keys(parsed), ['errorType', 'errorMessage', 'code', 'extra', 'stack']);
    assert.equal(parsed.code, 'E_CODE');
  });

  test('responses: undefined is null, unserialisable values throw AWS message', () => {
    assert.equal(serializeResponse(undefined), 'null');
    assert.equal(serializeResponse({ a: [1] }), '{"a":[1]}');
    assert.throws(() => serializeResponse({ n: 1n }), { message: 'Unable to stringify response body' });
  });

  test('error type header values lose control characters', () => {
    assert.equal(headerValue('Bad\r\nName\x7f'), 'BadName');
  });
});

describe('console', () => {
  test('text lines: timestamp, request id, level, util.format, newlines as \\r', () => {
    assert.equal(
      formatTextLine('2024-01-01T00:00:00.000Z', 'req', LEVELS.INFO, 'a %s\nb', ['x', { k: 1 }]),
      '2024-01-01T00:00:00.000Z\treq\tINFO\ta x\rb { k: 1 }\n',
    );
  });

  test('patched console: log is INFO, request id undefined outside an invocation, levels filter', () => {
    const out = [];
    const target = {};
    setCurrentRequestId(undefined);
    patchConsole({ env: { AWS_LAMBDA_LOG_LEVEL: 'warn' }, write: (t) => out.push(t), target });
    target.log('hidden');
    target.warn('shown');
    setCurrentRequestId('req-7');
    target.error('err');
    setCurrentRequestId(undefined);
    assert.equal(out.length, 2);
    assert.match(out[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tundefined\tWARN\tshown\n$/);
    assert.match(out[1], /\treq-7\tERROR\terr\n$/);
  });

  test('logError in text mode: "Invoke Error \\t{...}"', () => {
    const out = [];
    const target = {};
    const logError = patchConsole({ env: {}, write: (t) => out.push(t), target });
    logError('Invoke Error', new Error('x'));
    assert.match(out[0], /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"x","stack":\["Error: x",/);
  });

  test('JSON format', () => {
    const line = formatJsonLine('t', 'req', LEVELS.INFO, 'hello %s', ['you']);
    assert.deepEqual(JSON.parse(line), { timestamp: 't', level: 'INFO', requestId: 'req', message: 'hello you' });
    const obj = JSON.parse(formatJsonLine('t', 'req', LEVELS.ERROR, new Error('e'), []));
    assert.equal(obj.message.errorType, 'Error');
    assert.equal(obj.message.errorMessage, 'e');
  });
});
