/**
 * The model repository, read-only over HTTP, for browsers running the SDK in local
 * mode (`HttpModelSource`): `/models/index.json`, `/models/:name/manifest.json`
 * and `/models/:name/:version/model.onnx`. Nothing else in the folder is served, and no
 * file whose real path (symlinks resolved) leads outside the repository folder.
 */
import { join } from 'node:path';
import express, { type Router } from 'express';
import { ErrorCode, FsModelSource, PlaymindError } from '../../sdk/index.js';
import { buildModelIndex, confinedPath } from '../../sdk/runtime.js';
import { sendError } from './errors.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
const VERSION = /^[1-9]\d{0,8}$/;

/**
 * @param modelsDir - the model repository folder
 * @returns a router to mount at `/models`
 */
export function modelFilesRouter(modelsDir: string): Router {
  const source = new FsModelSource(modelsDir);
  const router = express.Router();
  const notFound = (what: string) => new PlaymindError(ErrorCode.UNKNOWN_MODEL, `not found: ${what.slice(0, 200)}`);
  const send = (res: express.Response, rel: string, type: string) => {
    void confinedPath(source.location, join(source.location, rel)).then(
      (real) => {
        res.type(type);
        res.setHeader('Cache-Control', 'no-cache');
        res.sendFile(real, { dotfiles: 'allow' }, (err) => {
          if (err && !res.headersSent) sendError(res, notFound(rel));
        });
      },
      () => sendError(res, notFound(rel)),
    );
  };

  router.get('/index.json', async (_req, res) => {
    try {
      const index = await buildModelIndex(source);
      res.setHeader('Cache-Control', 'no-cache');
      res.json(index);
    } catch (err) {
      sendError(
        res,
        new PlaymindError(ErrorCode.UNAVAILABLE, `cannot list the model repository: ${(err as Error).message}`),
      );
    }
  });
  router.get('/:name/manifest.json', (req, res) => {
    const name = String(req.params.name);
    if (!NAME.test(name)) return sendError(res, notFound(name));
    send(res, `${name}/manifest.json`, 'application/json');
  });
  router.get('/:name/:version/model.onnx', (req, res) => {
    const name = String(req.params.name);
    const version = String(req.params.version);
    if (!NAME.test(name) || !VERSION.test(version)) return sendError(res, notFound(`${name}/${version}`));
    send(res, `${name}/${version}/model.onnx`, 'application/octet-stream');
  });
  router.use((req, res) => sendError(res, notFound(req.path)));
  return router;
}
