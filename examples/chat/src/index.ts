/** The chat example as a library, for tests and the benchmark: start it, mint tokens, parse options. */
export { mintToken, verifyToken } from './auth.js';
export { type ChatOptions, DEFAULTS, helpText, parseOptions } from './options.js';
export { type Chat, logCluster, startChat } from './server.js';
