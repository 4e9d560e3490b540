/**
 * The tests' and benchmarks' NATS server: the chat example's launcher (`chat:cluster` uses it too),
 * re-exported where the test harnesses and bench runners look for it.
 */
export { freePort, INSTALL, type Nats, natsServerPath, startNats } from '../examples/chat/src/nats-server.js';
