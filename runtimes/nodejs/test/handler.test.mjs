/**
 * Handler loading: CommonJS, ES modules, package.json "type": "module", nested paths, and
 * AWS's INIT error types and messages.
 */

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadHandler, getHandlerMetadata, moduleRootAndHandler, splitHandlerString } from '../lib/handler.mjs';
import { makeTaskRoot, removeTaskRoot } from '../testsupport/task.mjs';

const INDEX = fileURLToPath(new URL('../index.mjs', import.meta.url));
const roots = [];
function root(files) {
  const r = makeTaskRoot(files);
  roots.push(r);
  return r;
}
after(() => roots.forEach(removeTaskRoot));

async function loadError(appRoot, handler) {
  try {
    await loadHandler(appRoot, handler, { requireFrom: INDEX });
  } catch (e) {
    return e;
  }
  assert.fail(`${handler} loaded`);
}

describe('handler string', () => {
  test('splits the module root and the handler', () => {
    assert.deepEqual(moduleRootAndHandler('src/api/index.handler'), ['src/api/', 'index.handler']);
    assert.deepEqual(moduleRootAndHandler('index.handler'), ['', 'index.handler']);
    assert.deepEqual(splitHandlerString('index.obj.fn'), ['index', 'obj.fn']);
  });
});

describe('loading', () => {
  test('CommonJS .js', async () => {
    const r = root({ 'index.js': 'exports.handler = async () => "cjs";' });
    const fn = await loadHandler(r, 'index.handler', { requireFrom: INDEX });
    assert.equal(await fn(), 'cjs');
  });

  test('.cjs', async () => {
    const r = root({ 'app.cjs': 'module.exports.handler = () => "cjs2";' });
    assert.equal((await loadHandler(r, 'app.handler'))(), 'cjs2');
  });

  test('ES module .mjs', async () => {
    const r = root({ 'index.mjs': 'export const handler = async () => "esm";' });
    assert.equal(await (await loadHandler(r, 'index.handler'))(), 'esm');
  });

  test('.js is an ES module when the nearest package.json says "type": "module"', async () => {
    const r = root({
      'package.json': '{"type": "module"}',
      'src/index.js': 'export const handler = () => import.meta.url;',
    });
    const fn = await loadHandler(r, 'src/index.handler');
    assert.equal(fn(), new URL(`file://${path.join(r, 'src/index.js')}`).href);
  });

  test('a package.json inside node_modules does not count', async () => {
    const r = root({
      'package.json': '{"type": "module"}',
      'node_modules/package.json': '{"type": "commonjs"}',
      'node_modules/lib/index.js': 'export const handler = () => "esm from parent package.json";',
    });
    const fn = await loadHandler(r, 'node_modules/lib/index.handler');
    assert.equal(fn(), 'esm from parent package.json');
  });

  test('nested property path and directories', async () => {
    const r = root({ 'lib/handlers/api.js': 'exports.routes = { get: { fn: () => "nested" } };' });
    assert.equal((await loadHandler(r, 'lib/handlers/api.routes.get.fn'))(), 'nested');
  });

  test('default export of an ES module', async () => {
    const r = root({ 'main.mjs': 'export default function () { return "default"; }' });
    assert.equal((await loadHandler(r, 'main.default'))(), 'default');
  });

  test('falls back to node module resolution from the task root', async () => {
    const r = root({ 'node_modules/fromdeps/index.js': 'exports.handler = () => "resolved";' });
    assert.equal((await loadHandler(r, 'fromdeps.handler'))(), 'resolved');
  });

  test('metadata: async-ness and arity', async () => {
    const r = root({ 'm.js': 'exports.a = async (e, c) => 1; exports.b = (e, c, cb) => cb();' });
    assert.deepEqual(getHandlerMetadata(await loadHandler(r, 'm.a')), { streaming: false, isAsync: true, argsNum: 2 });
    assert.deepEqual(getHandlerMetadata(await loadHandler(r, 'm.b')), { streaming: false, isAsync: false, argsNum: 3 });
  });
});

describe('INIT errors', () => {
  test('Runtime.ImportModuleError for a missing module, with the require stack', async () => {
    const r = root({});
    const e = await loadError(r, 'index.handler');
    assert.equal(e.name, 'Runtime.ImportModuleError');
    assert.equal(e.message, `Error: Cannot find module 'index'\nRequire stack:\n- ${INDEX}`);
    assert.ok(e.stack.startsWith(`Runtime.ImportModuleError: Error: Cannot find module 'index'\nRequire stack:\n- ${INDEX}\n    at `));
  });

  test('Runtime.ImportModuleError for a missing dependency of a CommonJS module', async () => {
    const r = root({ 'app.js': 'require("not-installed-anywhere");\nexports.handler = () => 1;' });
    const e = await loadError(r, 'app.handler');
    assert.equal(e.name, 'Runtime.ImportModuleError');
    assert.equal(
      e.message,
      `Error: Cannot find module 'not-installed-anywhere'\nRequire stack:\n- ${path.join(r, 'app.js')}\n- ${INDEX}`,
    );
  });

  test('a missing package imported by an ES module is reported as it is', async () => {
    const r = root({ 'app.mjs': 'import "not-installed-anywhere";\nexport const handler = () => 1;' });
    const e = await loadError(r, 'app.handler');
    assert.equal(e.name, 'Error');
    assert.equal(e.code, 'ERR_MODULE_NOT_FOUND');
    assert.match(e.message, /^Cannot find package 'not-installed-anywhere' imported from /);
  });

  test('Runtime.HandlerNotFound when not exported or not a function', async () => {
    const r = root({ 'index.js': 'exports.value = 42;' });
    const missing = await loadError(r, 'index.handler');
    assert.equal(missing.name, 'Runtime.HandlerNotFound');
    assert.equal(missing.message, 'index.handler is undefined or not exported');
    const notFn = await loadError(r, 'index.value');
    assert.equal(notFn.name, 'Runtime.HandlerNotFound');
    assert.equal(notFn.message, 'index.value is not a function');
  });

  test('Runtime.MalformedHandlerName', async () => {
    const r = root({});
    const bad = await loadError(r, 'index');
    assert.equal(bad.name, 'Runtime.MalformedHandlerName');
    assert.equal(bad.message, 'Bad handler');
    const relative = await loadError(r, '../up/index.handler');
    assert.equal(relative.name, 'Runtime.MalformedHandlerName');
    assert.equal(
      relative.message,
      "'../up/index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    );
  });

  test('Runtime.UserCodeSyntaxError for CommonJS and ES modules', async () => {
    const r = root({ 'bad.js': 'exports.handler = () => {;', 'bad2.mjs': 'export const = 1;' });
    for (const handler of ['bad.handler', 'bad2.handler']) {
      const e = await loadError(r, handler);
      assert.equal(e.name, 'Runtime.UserCodeSyntaxError');
      assert.match(e.message, /^SyntaxError: /);
    }
  });

  test('other errors thrown while loading keep their own type', async () => {
    const r = root({ 'boom.js': 'throw new RangeError("no config");' });
    const e = await loadError(r, 'boom.handler');
    assert.equal(e.name, 'RangeError');
    assert.equal(e.message, 'no config');
  });
});
