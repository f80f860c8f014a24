/**
 * Client of the Lambda Runtime API 2018-06-01 over `node:http` with one keep-alive socket.
 *
 * The agent keeps a single socket open between requests; Node unrefs an idle keep-alive
 * socket, so it never holds the event loop open (the `beforeExit` semantics depend on that).
 * `/invocation/next` is a long poll without a timeout.
 *
 * A post the Runtime API refuses (a 4xx, e.g. a response too large) is logged to stderr and
 * the loop goes on: the API has recorded the invocation's failure itself. A transport
 * failure (connection refused or reset) ends the process: the environment is gone.
 */

import http from 'node:http';
import { toRapidResponse } from './errors.mjs';

const API = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

/** Like AWS: `undefined` is sent as `null`; a value JSON cannot encode is an Error thrown here. */
export function serializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

/** Header values may not hold control characters (Node would throw). */
export function headerValue(value) {
  return String(value).replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

export class RapidClient {
  constructor(hostnamePort, { httpModule = http, onTransportError } = {}) {
    const [hostname, port] = hostnamePort.split(':');
    this.hostname = hostname;
    this.port = parseInt(port, 10);
    this.http = httpModule;
    this.agent = new httpModule.Agent({ keepAlive: true, maxSockets: 1 });
    this.onTransportError =
      onTransportError ??
      ((err) => {
        process.stderr.write(`lambdabox runtime: Runtime API request failed: ${err}\n`);
        process.exit(1);
      });
  }

  request(method, path, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const options = {
        hostname: this.hostname,
        port: this.port,
        path,
        method,
        agent: this.agent,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'Content-Length': Buffer.byteLength(body) },
      };
      const req = this.http.request(options, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async nextInvocation() {
    const res = await this.request('GET', `${API}/invocation/next`);
    if (res.status !== 200) {
      throw new Error(
        `Request to Lambda Runtime 'next' endpoint failed. Reason: '${res.status}'. Response body: '${res.body}'`,
      );
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  post(path, body, headers, callback) {
    this.request('POST', path, body, headers).then(
      (res) => {
        if (res.status < 200 || res.status > 299) {
          process.stderr.write(
            `lambdabox runtime: POST ${path} refused with ${res.status}: ${res.body}\n`,
          );
        }
        callback();
      },
      (err) => this.onTransportError(err),
    );
  }

  postInvocationResponse(response, id, callback) {
    const body = serializeResponse(response);
    this.post(
      `${API}/invocation/${encodeURIComponent(id)}/response`,
      body,
      { 'Content-Type': 'application/json' },
      callback,
    );
  }

  postInvocationError(error, id, callback) {
    const response = toRapidResponse(error);
    this.post(
      `${API}/invocation/${encodeURIComponent(id)}/error`,
      serializeResponse(response),
      errorHeaders(response),
      callback,
    );
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this.post(`${API}/init/error`, serializeResponse(response), errorHeaders(response), callback);
  }
}

function errorHeaders(response) {
  return {
    'Content-Type': 'application/json',
    [ERROR_TYPE_HEADER]: headerValue(response.errorType ?? 'Runtime.Unknown') || 'Runtime.Unknown',
  };
}
