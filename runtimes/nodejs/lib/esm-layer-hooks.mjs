/**
 * Module resolution hooks (`module.register`) that let ES modules import packages from layers.
 *
 * CommonJS finds `/opt/nodejs/node20/node_modules` and `/opt/nodejs/node_modules` through
 * NODE_PATH, but ESM resolution ignores NODE_PATH. When a bare specifier is not found the
 * normal way, it is resolved again as if imported from a file beside each layer folder.
 * The runtime registers these hooks only when one of the folders exists.
 */

let parents = [];

/** `data.dirs`: the layers' node_modules folders, in lookup order. */
export async function initialize(data) {
  parents = (data?.dirs ?? []).map((dir) => new URL('__lambdabox_layer_parent__.mjs', `file://${dir.replace(/\/node_modules\/?$/, '/')}`).href);
}

function isBare(specifier) {
  return !(
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('/') ||
    specifier.startsWith('#') ||
    /^[a-zA-Z][a-zA-Z\d+.-]*:/.test(specifier)
  );
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) {
      throw err;
    }
    for (const parentURL of parents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // not in this layer folder
      }
    }
    throw err;
  }
}
