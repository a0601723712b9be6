/**
 * Rollout control, behind the admin token like the rest of `/v2/repository`:
 *
 * - `POST /v2/repository/models/:name/rollout` `{ candidate, mode, fraction?, kpi?, errorMargin?, minDecisions?, autoPromote? }`
 *   starts a shadow or canary rollout (the candidate is loaded and checked first);
 * - `GET /v2/repository/models/:name/rollout` its state (the current or last one);
 * - `DELETE /v2/repository/models/:name/rollout` stops it;
 * - `POST /v2/repository/models/:name/rollout/promote` `{ candidate?, report? }` promotes
 *   the running rollout's candidate (or, with no rollout running, the version named);
 * - `POST /v2/repository/models/:name/retrain` runs the recommender's retraining loop
 *   now and answers its report.
 *
 * @module
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { RecsRetrainer } from '../rollout/recs-retrainer.js';
import { RolloutRequestSchema, type RolloutManager } from '../rollout/rollout-manager.js';
import type { ServerServices } from '../services.js';
import { requireAdmin } from './admin-auth.js';
import { isJsonRequest, notJson } from './kserve.js';
import { sendError } from './errors.js';

const PromoteSchema = z
  .object({
    candidate: z.number().int().positive().optional(),
    report: z.unknown().optional(),
  })
  .strict();

const MAX_ROLLOUT_BODY = 64 * 1024;

/**
 * The rollout routes.
 * @param services - the server's services (admin token)
 * @param rollouts - the server's rollout manager
 * @param retrainers - the retraining loops, by model
 */
export function rolloutRouter(
  services: ServerServices,
  rollouts: RolloutManager,
  retrainers: ReadonlyMap<string, RecsRetrainer> = new Map(),
): Router {
  const router = express.Router();
  const admin = requireAdmin(services);
  const parseJson = express.json({ limit: MAX_ROLLOUT_BODY, strict: true, type: isJsonRequest });
  // JSON only for JSON content types (or none): a form or text body is refused, never parsed.
  const json: express.RequestHandler = (req, res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !isJsonRequest(req)) return sendError(res, notJson(req), 415);
    return parseJson(req, res, next);
  };
  const path = '/v2/repository/models/:name/rollout';

  const handle =
    (fn: (name: string, req: Request) => Promise<unknown>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        res.json(await fn(String(req.params.name), req));
      } catch (err) {
        const conflict = err instanceof PlaymindError && err.details.conflict === true;
        sendError(res, err, conflict ? 409 : undefined);
      }
    };

  router.post(
    path,
    admin,
    json,
    handle(async (name, req) => {
      const body = parse(RolloutRequestSchema, req.body, 'rollout');
      const state = await rollouts.start(name, body);
      services.logger.info(
        { model: name, mode: state.mode, candidate: state.candidate },
        'rollout started by an admin call',
      );
      return state;
    }),
  );
  router.get(
    path,
    admin,
    handle((name) => {
      const state = rollouts.get(name);
      if (!state)
        throw new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no rollout of "${name.slice(0, 128)}" was started`, {
          details: { model: name.slice(0, 128) },
        });
      return Promise.resolve(state);
    }),
  );
  router.delete(
    path,
    admin,
    handle((name) => rollouts.stop(name)),
  );
  router.post(
    `${path}/promote`,
    admin,
    json,
    handle((name, req) => {
      const body = parse(PromoteSchema, req.body ?? {}, 'promote');
      return rollouts.promote(name, { candidate: body.candidate, report: body.report });
    }),
  );
  router.post(
    '/v2/repository/models/:name/retrain',
    admin,
    handle((name) => {
      const loop = retrainers.get(name);
      if (!loop)
        throw new PlaymindError(
          ErrorCode.UNKNOWN_MODEL,
          `no retraining loop for "${name.slice(0, 128)}" (the server retrains ${[...retrainers.keys()].join(', ') || 'nothing'})`,
          { details: { model: name.slice(0, 128) } },
        );
      return loop.run();
    }),
  );
  return router;
}

/** Validates a body with a schema; a bad one is an `invalid_argument` naming the field. */
function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || '(body)';
  throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${what} request: '${field}' ${issue.message}`, {
    details: { field },
  });
}
