/**
 * What the packaging tests share: running a command with its output in the error, and npm's
 * environment in a consumer project outside the workspace.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';

/** Runs a command to completion; throws with its output when it fails. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
  });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r.stdout;
}

/**
 * The environment for npm in the consumer project: pnpm's own `npm_*` variables (lifecycle, package,
 * pnpm-only settings) stay behind; registry, proxy and cache settings come along.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((/^npm_/i.test(k) || /^pnpm_/i.test(k)) && !keep.test(k)) continue;
    env[k] = v;
  }
  return env;
}
