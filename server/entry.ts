/**
 * The `playmind/server` entry: the server as a library (`createServer`, `serverConfig`).
 *
 * The server's packages (Colyseus, express, pino, prom-client, gRPC) are optional peer
 * dependencies, left out of a game's install. Imported statically, a missing one fails the
 * whole import with Node's bare `ERR_MODULE_NOT_FOUND` before any of our code runs; this entry
 * loads the server behind a dynamic import instead, so a game that imports `playmind/server`
 * without them gets a {@link PlaymindError} (`dependency_missing`) that names the missing
 * package and the install command with the versions this release was built against.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { PlaymindError, ErrorCode } from '../sdk/public.js';

export type { ServerConfig, ServerServices, PlaymindServer, CreateServerOptions } from './app.js';

/** The package's optional peers that hosting the server needs, with their declared ranges. */
function serverPeers(): Record<string, string> {
  // dist/server/entry.js (or server/entry.ts under tsx): the package root is one or two folders up.
  for (const up of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        peerDependencies?: Record<string, string>;
      };
      if (pkg.name !== 'playmind') continue;
      const peers = { ...pkg.peerDependencies };
      delete peers.phaser; // the Phaser plugin's, not the server's
      return peers;
    } catch {
      // not there: try the next folder up
    }
  }
  return {};
}

/**
 * The error for a failed import of the server: `dependency_missing` when a package it imports
 * is not installed, else the error itself.
 */
export function serverImportError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (code !== 'ERR_MODULE_NOT_FOUND' || missing === undefined || missing.startsWith('.') || missing.startsWith('/'))
    return err;
  const peers = serverPeers();
  const name = missing.startsWith('@') ? missing.split('/').slice(0, 2).join('/') : missing.split('/')[0]!;
  const install = Object.entries(peers)
    .filter(([p]) => !p.includes('redis'))
    .map(([p, range]) => `${p}@${JSON.stringify(range).slice(1, -1)}`)
    .join(' ');
  return new PlaymindError(
    ErrorCode.DEPENDENCY_MISSING,
    `playmind/server needs the server's packages, which a game's install leaves out (they are optional peers): ` +
      `'${name}' is not installed. Install them beside playmind: npm install ${install || name}` +
      ` (add @colyseus/redis-presence and @colyseus/redis-driver only to scale out over redis)`,
    { cause: err, details: { missing: name } },
  );
}

let app: typeof import('./app.js');
try {
  app = await import('./app.js');
} catch (err) {
  throw serverImportError(err);
}

/** See {@link import('./app.js').createServer}. */
export const createServer = app.createServer;
/** See {@link import('./app.js').serverConfig}. */
export const serverConfig = app.serverConfig;
/** See {@link import('./app.js').parseConfig}. */
export const parseConfig = app.parseConfig;
/** See {@link import('./app.js').DEFAULT_CONFIG}. */
export const DEFAULT_CONFIG = app.DEFAULT_CONFIG;
