/**
 * Which web origins may use this server from a browser: its own origin (the demo's, the
 * replay page's) and those configured with `--cors-origin` (`*`: any). One rule for the
 * two doors a page can knock on: CORS headers on HTTP routes (the front door) and the
 * WebSocket upgrade of the rooms (a browser sends `Origin` with every WebSocket handshake
 * and, unlike `fetch`, applies no CORS to it, so the server must refuse a foreign one
 * itself). A request without `Origin` is not from a page (the Node SDK, Unity, Godot,
 * curl): origins say nothing about it and it is let through.
 *
 * @module
 */

/**
 * How an `Origin` stands: the server's `own`, `listed` by `--cors-origin`, allowed by `any`
 * (`--cors-origin '*'`), `refused`, or `none` (no `Origin` header: not a page).
 */
export type OriginVerdict = 'own' | 'listed' | 'any' | 'refused' | 'none';

/**
 * The origin rule for a set of configured origins.
 * @param corsOrigins - `--cors-origin`'s list (lower case, no trailing slash; `*` for any)
 * @returns a function of the request's `Origin` and `Host` headers
 * @example
 * const verdict = originRule(config.corsOrigins);
 * verdict('https://evil.example', 'play.example.com'); // 'refused'
 */
export function originRule(corsOrigins: readonly string[]): (origin: unknown, host: unknown) => OriginVerdict {
  const any = corsOrigins.includes('*');
  const listed = new Set(corsOrigins.filter((o) => o !== '*'));
  return (origin, host) => {
    if (typeof origin !== 'string') return 'none';
    const o = origin.toLowerCase();
    if (typeof host === 'string') {
      const h = host.toLowerCase();
      if (o === `http://${h}` || o === `https://${h}`) return 'own';
    }
    if (listed.has(o)) return 'listed';
    return any ? 'any' : 'refused';
  };
}

/** Whether a verdict lets a page in. */
export function originAllowed(verdict: OriginVerdict): boolean {
  return verdict !== 'refused';
}
