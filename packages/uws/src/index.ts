/**
 * @troupe/uws: Troupe actors behind uWebSockets.js, one supervised actor per socket. Nothing here is
 * specific to a protocol: the socket's actor gets frames as messages and writes through its handle.
 *
 * @module @troupe/uws
 */

export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
export { assertNativeUws, isNativeUws, UWS_FOR_NODE_20, UwsFallbackError, UwsMissingError, uWS } from './native.js';
export {
  type AcceptsSocketEvents,
  DEFAULT_SOCKET_RESTART_LIMIT,
  FILES_CHECK_MS,
  FILES_HEADROOM,
  isLoopbackAddress,
  type Server,
  type ServerOptions,
  type SocketArgs,
  type SocketEvent,
  serve,
  socketServer,
  type UpgradeDecision,
  type UpgradeInfo,
} from './server.js';
export { type BufferLimit, type CloseInfo, type SendStatus, SocketHandle, type SocketStats } from './socket.js';
