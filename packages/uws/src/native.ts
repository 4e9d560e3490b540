/**
 * Loading uWebSockets.js, and refusing its slow fallback. uWebSockets.js is a peer dependency: it is
 * not on the npm registry under its own name, and which build loads depends on the Node version and
 * the libc, so the application installs the one that fits (the README has the table). A missing one
 * is an error that names the install command. The 20.30.0 build silently swaps in a JavaScript
 * implementation (built on `ws`) when its native binary does not load, which runs many times
 * slower: `assertNativeUws` detects that, so a server refuses to start instead of running slow
 * without anyone noticing.
 */

import type * as UWS from 'uWebSockets.js';
import { createRequire } from 'node:module';

/** The build that loads natively on Node 16, 18 and 20 with glibc older than 2.38 (Debian 12). */
export const UWS_FOR_NODE_20 = 'uWebSockets.js@npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0';

/** What to install, said once for both errors. */
const WHICH_BUILD =
  `On Node 20: npm install ${UWS_FOR_NODE_20}. On Node 22 or 24: a uWebSockets.js release from ` +
  'github:uNetworking/uWebSockets.js that ships a binary for this Node (its releases list them; they need glibc 2.38 or newer)';

/** uWebSockets.js is not installed next to `@troupe/uws`. */
export class UwsMissingError extends Error {
  override readonly name = 'UwsMissingError';
  constructor(cause: unknown) {
    super(`@troupe/uws needs uWebSockets.js, a peer dependency it does not install itself. ${WHICH_BUILD}.`, {
      cause,
    });
  }
}

function load(): typeof UWS {
  try {
    return createRequire(import.meta.url)('uWebSockets.js') as typeof UWS;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND') throw new UwsMissingError(e);
    throw e;
  }
}

/** The uWebSockets.js module this package uses. */
export const uWS: typeof UWS = load();

/** `true` when the native build of uWebSockets.js loaded (not the JavaScript fallback). */
export function isNativeUws(mod: object = uWS): boolean {
  const app = (mod as { App?: unknown }).App;
  return (
    'SSLApp' in mod && typeof app === 'function' && Function.prototype.toString.call(app).includes('[native code]')
  );
}

/** uWebSockets.js fell back to its JavaScript implementation. */
export class UwsFallbackError extends Error {
  override readonly name = 'UwsFallbackError';
  constructor() {
    super(
      `uWebSockets.js did not load its native binary (Node ${process.versions.node}, ABI ${process.versions.modules}, ` +
        `${process.platform}-${process.arch}) and fell back to a slow JavaScript implementation. ` +
        `Install a build for this Node: ${WHICH_BUILD}; or unset UWS_USE_FALLBACK, or pass { allowFallback: true } ` +
        'to run slow on purpose.',
    );
  }
}

/** Throws {@link UwsFallbackError} unless the native build loaded. */
export function assertNativeUws(mod: object = uWS): void {
  if (!isNativeUws(mod)) throw new UwsFallbackError();
}
