/**
 * Watching recorded matches back (with `--decision-log`):
 *
 * - `GET /replay`: the replay page (`replay-page.ts`): pick a match, play it back,
 *   click a guard to see its decision at that tick;
 * - `GET /v2/replays` (admin): the matches in the decision-log folder, newest first;
 * - `GET /v2/replays/:match?maxTicks=n` (admin): the match re-simulated from its log
 *   (recorded decisions applied), one frame per tick: guards with the action, the
 *   version that decided it and its probabilities; players; whether the tick's state
 *   hash matches the logged one.
 *
 * The data is behind the admin token (it holds player ids and names); the page asks
 * for the token and keeps it in the tab's session storage.
 *
 * @module
 */
import express, { type Router } from 'express';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import { MATCH_ID } from '../recording/decision-log-format.js';
import { listMatchLogs, readMatchLog } from '../recording/decision-log-reader.js';
import { matchFrames } from '../recording/match-replay.js';
import type { ServerServices } from '../services.js';
import { requireAdmin } from './admin-auth.js';
import { sendError } from './errors.js';
import { REPLAY_PAGE } from './replay-page.js';

/** Most ticks one `GET /v2/replays/:match` answers. */
const MAX_TICKS = 12_000;

/**
 * The replay routes.
 * @param services - the server's services (decision log, admin token)
 */
export function replayRouter(services: ServerServices): Router {
  const router = express.Router();
  const admin = requireAdmin(services);
  const log = services.decisionLog;
  const off = (): PlaymindError =>
    new PlaymindError(
      ErrorCode.MODEL_UNAVAILABLE,
      'matches are not recorded: start the server with --decision-log <dir> (DECISION_LOG_DIR)',
    );

  router.get('/replay', (_req, res) => {
    res.type('html').setHeader('Cache-Control', 'no-store').send(REPLAY_PAGE);
  });

  router.get('/v2/replays', admin, async (_req, res) => {
    try {
      if (!log) throw off();
      const matches = await listMatchLogs(log.dir);
      res.json({
        matches: matches.map((m) => ({
          matchId: m.matchId,
          segments: m.files.length,
          bytes: m.bytes,
          fromStart: m.fromStart,
          modified: m.modified.toISOString(),
        })),
      });
    } catch (err) {
      sendError(res, err, log ? undefined : 404);
    }
  });

  router.get('/v2/replays/:match', admin, async (req, res) => {
    try {
      if (!log) throw off();
      const id = String(req.params.match);
      if (!MATCH_ID.test(id))
        throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'${id.slice(0, 64)}' is not a match id`);
      const raw = req.query.maxTicks;
      const maxTicks = raw === undefined ? MAX_TICKS : Number(raw);
      if (!Number.isInteger(maxTicks) || maxTicks < 1 || maxTicks > MAX_TICKS)
        throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'maxTicks' must be an integer in 1..${MAX_TICKS}`);
      const match = (await listMatchLogs(log.dir)).find((m) => m.matchId === id);
      if (!match) {
        sendError(res, new PlaymindError(ErrorCode.INVALID_ARGUMENT, `no recorded match '${id}'`), 404);
        return;
      }
      if (!match.fromStart)
        throw new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `match '${id}' lost its first segment (size cap): it cannot be re-run`,
        );
      res.json(await matchFrames(await readMatchLog(match.files[0]!), maxTicks));
    } catch (err) {
      sendError(res, err, log ? undefined : 404);
    }
  });

  return router;
}
