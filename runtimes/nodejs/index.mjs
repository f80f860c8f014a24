/**
 * Entry point of Lambdabox's Node.js runtime interface client:
 * `/usr/bin/node /var/runtime/index.mjs`, with AWS Lambda's environment (`_HANDLER`,
 * `AWS_LAMBDA_RUNTIME_API`, `LAMBDA_TASK_ROOT`, ...). Only Node's built-in modules are used.
 *
 * Here: the process-wide wiring (NODE_PATH, ESM hooks for layers, the HTTP client); the
 * runtime itself is in lib/.
 */

import { existsSync } from 'node:fs';
import Module, { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RapidClient } from './lib/rapid-client.mjs';
import { start } from './lib/start.mjs';

const env = process.env;
if (env.LAMBDABOX_ZYGOTE === '1') {
  const { awaitAssignment } = await import('./lib/zygote.mjs');
  awaitAssignment();
  if (typeof Module._initPaths === 'function') {
    Module._initPaths(); // the function's NODE_PATH
  }
}
const runtimeDir = path.dirname(fileURLToPath(import.meta.url));
const appRoot = env.LAMBDA_TASK_ROOT || process.cwd();
const LAYER_MODULES = ['/opt/nodejs/node20/node_modules', '/opt/nodejs/node_modules'];

// AWS's NODE_PATH for nodejs20.x, when the execution environment did not set one.
if (!env.NODE_PATH) {
  env.NODE_PATH = [...LAYER_MODULES, path.join(runtimeDir, 'node_modules'), runtimeDir, appRoot].join(':');
  if (typeof Module._initPaths === 'function') {
    Module._initPaths();
  }
}

// ES modules ignore NODE_PATH: resolve bare imports from layers with hooks, when there are layers,
// and from the runtime's AWS SDK after them (without layers the engine mounts the SDK at
// /var/node_modules, where ES modules in /var/task find it unaided).
const layerDirs = LAYER_MODULES.filter((dir) => existsSync(dir));
if (layerDirs.length > 0 && typeof register === 'function') {
  const sdkDir = path.join(runtimeDir, 'node_modules');
  const dirs = existsSync(path.join(sdkDir, '@aws-sdk')) ? [...layerDirs, sdkDir] : layerDirs;
  register(new URL('./lib/esm-layer-hooks.mjs', import.meta.url), { data: { dirs } });
}

await start({
  appRoot,
  handlerString: env._HANDLER ?? '',
  client: new RapidClient(env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001'),
  requireFrom: import.meta.url,
});
