/**
 * Loading uWebSockets.js, and refusing its slow fallback. The build we depend on silently swaps in a
 * JavaScript implementation (built on `ws`) when its native binary does not load on this Node or
 * libc, which runs many times slower. `assertNativeUws` detects that, so a server refuses to start
 * instead of running slow without anyone noticing.
 */
import uWS from 'uWebSockets.js';

/** The uWebSockets.js module this package uses. */
export { uWS };

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
        'Use a Node version the installed build supports (16, 18 or 20 for 20.30.0; newer builds need glibc 2.38), ' +
        'unset UWS_USE_FALLBACK, or pass { allowFallback: true } to run slow on purpose.',
    );
  }
}

/** Throws {@link UwsFallbackError} unless the native build loaded. */
export function assertNativeUws(mod: object = uWS): void {
  if (!isNativeUws(mod)) throw new UwsFallbackError();
}
