/**
 * What a player reads when something goes wrong: a sentence about what
 * happened and what the game does about it, never a bare code. The code
 * stays in the test hook and the console for developers.
 *
 * @module
 */

/** Sentences for the server's typed error codes (`sdk/protocol.ts`) and the page's own. */
const BY_CODE: Readonly<Record<string, string>> = {
  rate_limited: 'You are sending moves faster than the server takes them; a few were skipped.',
  malformed_message: 'The server did not understand a message from this page; it was ignored.',
  invalid_argument: 'The server refused that request.',
  payload_too_large: 'A message from this page was too large for the server; it was ignored.',
  unknown_model: 'A model the game needs is not on the server; simpler rules take over.',
  model_unavailable: 'A model the game needs cannot answer right now; simpler rules take over.',
  overloaded: 'The server is busy; the guards follow simpler rules for a moment.',
  deadline_exceeded: 'A decision came back too late; the guards kept what they were doing.',
  unavailable: 'The server cannot be reached.',
  closed: 'The connection was closed.',
  internal: 'Something went wrong on the server.',
  offline_failed: 'Offline mode could not start in this browser.',
};

/** Colyseus matchmaking codes (HTTP) and WebSocket close codes. */
const BY_NUMBER: Readonly<Record<number, string>> = {
  520: 'The server has no arena to join.',
  521: 'The server could not find a matching arena.',
  522: 'The arena you were in is gone.',
  523: 'The server could not seat you in the arena.',
  524: 'Your seat in the arena expired before the connection was made.',
  525: 'The server refused to let you in.',
  526: 'The arena refused to let you in.',
  1006: 'The connection to the server dropped.',
  4001: 'The server is shutting down.',
  4002: 'The arena closed because of an error.',
  4003: 'The game could not reconnect to the same arena.',
};

/**
 * A sentence for an error the game received.
 *
 * @param code - a Playmind error code, `ws_<number>` (a room error) or a number
 * @param message - the technical message (used only to pick a quest's wording)
 * @example playerMessage('ws_524', 'seat reservation expired') // 'Your seat in the arena expired before…'
 */
export function playerMessage(code: string | number, message = ''): string {
  const n = typeof code === 'number' ? code : /^ws_(\d+)$/.exec(code)?.[1];
  if (n !== undefined && n !== null) {
    const known = BY_NUMBER[Number(n)];
    if (known) return known;
    if (Number(n) === 404) return 'The server at this address has no arena to join.';
    if (Number(n) >= 400 && Number(n) < 600) return 'The server did not let the game join.';
    return 'The connection to the server had a problem.';
  }
  if (code === 'invalid_argument' && /quest/i.test(message)) return 'That quest is not available here.';
  return BY_CODE[String(code)] ?? 'Something went wrong; the game carries on.';
}

/** Why the game could not join (a thrown error): a sentence. */
export function joinFailureMessage(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return playerMessage(code);
  const text = err instanceof Error ? err.message : String(err);
  if (/within \d+ ms/.test(text)) return 'The server did not answer in time.';
  if (/fetch|network|refused|ECONN|Failed/i.test(text)) return 'The server cannot be reached.';
  if (/404|Not Found|Cannot POST|Unsupported method/i.test(text)) return 'There is no game server at this address.';
  return 'The server did not let the game join.';
}
