/**
 * `@troupe/uws/testing`: for tests only. A fake connection whose handle is a real `SocketHandle`,
 * so that a socket actor can be unit-tested without a network (and without loading
 * uWebSockets.js), in an `ActorSystem` with a `SimulatedClock` from `troupe/testing`.
 *
 * @module @troupe/uws/testing
 */

export {
  type ClosedBy,
  createFakeSocket,
  type FakeSocket,
  type FakeSocketOptions,
  type PublishedFrame,
  type SentFrame,
} from './fake-socket.js';
