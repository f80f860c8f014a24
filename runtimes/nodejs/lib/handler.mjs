/**
 * Loading the function's handler (`_HANDLER`) the way AWS's nodejs20.x runtime does.
 *
 * `[dir/]file.export[.nested]`: the part after the last `/` is split at its first dot into the
 * module and the property path. The module is looked for at `<task root>/<dir>/<file>`:
 * 1. the extensionless path, with require();
 * 2. `file.js` with require(), unless the nearest package.json says `"type": "module"`;
 * 3. `file.js` with import() (type module), then `file.mjs` with import(), then `file.cjs`
 *    with require();
 * 4. finally require.resolve(file) from the task root (node_modules, NODE_PATH).
 *
 * Errors: `Runtime.MalformedHandlerName`, `Runtime.UserCodeSyntaxError` (a SyntaxError while
 * loading), `Runtime.ImportModuleError` (MODULE_NOT_FOUND), `Runtime.HandlerNotFound`
 * (`index.handler is undefined or not exported`, `index.handler is not a function`). Other
 * errors thrown by the module, including ESM's ERR_MODULE_NOT_FOUND, are reported as they are.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HandlerNotFound,
  ImportModuleError,
  MalformedHandlerName,
  MalformedStreamingHandler,
  UserCodeSyntaxError,
} from './errors.mjs';

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const RELATIVE_PATH_SUBSTRING = '..';
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const STREAM_RESPONSE = 'response';

/** `'./a/b/module.obj.fn'` -> `['./a/b/', 'module.obj.fn']` */
export function moduleRootAndHandler(fullHandlerString) {
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  return [moduleRoot, handlerString];
}

/** `'module.obj.fn'` -> `['module', 'obj.fn']` */
export function splitHandlerString(handler) {
  const match = handler.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) {
    throw new MalformedHandlerName('Bad handler');
  }
  return [match[1], match[2]];
}

function resolveHandler(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => nested && nested[key], object);
}

/**
 * Whether `.js` files in `folder` are ES modules: the nearest package.json's `type`, looking
 * upwards and stopping at a `node_modules` folder or the root.
 */
export function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const pj = path.join(folder, '/package.json');
  if (existsSync(pj)) {
    try {
      const pkg = JSON.parse(readFileSync(pj));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

function makeLoaders(require) {
  const tryRequire = (file, extension = '') => {
    const p = file + extension;
    return existsSync(p) ? require(p) : undefined;
  };
  const tryImport = async (file, extension = '') => {
    const p = file + extension;
    return existsSync(p) ? await import(pathToFileURL(p).href) : undefined;
  };
  return { tryRequire, tryImport };
}

async function loadModule(appRoot, moduleRoot, module, require) {
  const { tryRequire, tryImport } = makeLoaders(require);
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);

  const extensionless = tryRequire(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }

  const typeModule = hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!typeModule) {
    const loaded = tryRequire(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }

  const loaded =
    (typeModule && (await tryImport(lambdaStylePath, '.js'))) ||
    (await tryImport(lambdaStylePath, '.mjs')) ||
    tryRequire(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }

  // require() resolves relative to the runtime's own file, not the task root: resolve first.
  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, module, require) {
  try {
    return await loadModule(appRoot, moduleRoot, module, require);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new UserCodeSyntaxError(e);
    } else if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(e);
    }
    throw e;
  }
}

/**
 * Load the handler function.
 * @param {string} appRoot the task root (`LAMBDA_TASK_ROOT`)
 * @param {string} fullHandlerString `_HANDLER`
 * @param {object} [options]
 * @param {string|URL} [options.requireFrom] the file require() resolves from and names in
 *   "Require stack" messages: the runtime's `index.mjs`, as on AWS.
 */
export async function loadHandler(appRoot, fullHandlerString, { requireFrom } = {}) {
  if (fullHandlerString.includes(RELATIVE_PATH_SUBSTRING)) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const [moduleRoot, moduleAndHandler] = moduleRootAndHandler(fullHandlerString);
  const [module, handlerPath] = splitHandlerString(moduleAndHandler);

  const require = createRequire(requireFrom ?? new URL('../index.mjs', import.meta.url));
  const userApp = await loadUserApp(appRoot, moduleRoot, module, require);
  const handlerFunc = resolveHandler(userApp, handlerPath);

  if (!handlerFunc) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handlerFunc !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handlerFunc;
}

function isAsync(handler) {
  try {
    return Boolean(
      handler &&
        typeof handler === 'function' &&
        handler.constructor &&
        handler.constructor.name === 'AsyncFunction',
    );
  } catch {
    return false;
  }
}

function streamingMode(handler) {
  const mode = handler[HANDLER_STREAMING];
  if (mode === undefined || mode === null || mode === false) {
    return false;
  }
  if (mode === STREAM_RESPONSE) {
    return STREAM_RESPONSE;
  }
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

export function getHandlerMetadata(handler) {
  return {
    streaming: streamingMode(handler),
    isAsync: isAsync(handler),
    argsNum: handler.length,
  };
}

export const CALLBACK_DEPRECATION_WARNING =
  'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.';

/** nodejs20.x warns once at INIT about a non-async handler that takes a callback. */
export function checkForDeprecatedCallback(metadata, env = process.env) {
  if (
    env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined &&
    metadata.argsNum === 3 &&
    metadata.isAsync === false &&
    metadata.streaming === false
  ) {
    console.warn(CALLBACK_DEPRECATION_WARNING);
  }
}
