/**
 * Serves a folder of static files (the built demo game) with precompressed
 * variants: when `file.br` or `file.gz` sits next to `file` (the demo's build
 * writes both) and the request's `Accept-Encoding` takes it, that variant is
 * sent with `Content-Encoding`, the original file's `Content-Type` and `Vary:
 * Accept-Encoding`; otherwise the file itself. Nothing is compressed at
 * request time.
 *
 * `/` serves `index.html`. Caching: files under `chunks/` carry a content hash
 * in their name and are `immutable` for a year; everything else is
 * revalidated (`no-cache`, with an ETag per variant). Dot files and paths
 * leaving the folder are not served (the request falls through to the next
 * handler).
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Request, RequestHandler, Response } from 'express';

/** Content types by extension (what the demo ships). */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/** The encodings served, in order of preference, with their file suffix. */
const ENCODINGS = [
  ['br', '.br'],
  ['gzip', '.gz'],
] as const;

/**
 * The encodings a request accepts (`Accept-Encoding`, q-values honoured; `*` counts).
 *
 * @example acceptedEncodings('gzip, br;q=0') // Set { 'gzip' }
 */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!header) return out;
  let star: boolean | undefined;
  const refused = new Set<string>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const ok = q === undefined || Number(q) > 0;
    if (name === '*') star = ok;
    else if (ok) out.add(name);
    else refused.add(name);
  }
  if (star) for (const [enc] of ENCODINGS) if (!refused.has(enc)) out.add(enc);
  return out;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The middleware.
 *
 * @param root - the folder to serve
 */
export function staticFiles(root: string): RequestHandler {
  const base = resolve(root);
  return (req: Request, res: Response, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      return next();
    }
    if (path === '/' || path === '') path = '/index.html';
    if (path.includes('\0') || path.split('/').some((p) => p.startsWith('.'))) return next();
    const file = resolve(join(base, path));
    if (!file.startsWith(base + sep)) return next();
    const type = TYPES[extname(file).toLowerCase()];
    void (async () => {
      if (!(await isFile(file))) return next();
      const accepted = acceptedEncodings(req.headers['accept-encoding']);
      let send = file;
      let encoding: string | undefined;
      let variants = false;
      for (const [enc, suffix] of ENCODINGS) {
        if (!(await isFile(file + suffix))) continue;
        variants = true;
        if (!encoding && accepted.has(enc)) {
          encoding = enc;
          send = file + suffix;
        }
      }
      const headers: Record<string, string> = {
        'Cache-Control': path.startsWith('/chunks/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      };
      if (type) headers['Content-Type'] = type;
      if (variants) headers.Vary = 'Accept-Encoding';
      if (encoding) headers['Content-Encoding'] = encoding;
      res.sendFile(send, { headers, dotfiles: 'allow', acceptRanges: !encoding, cacheControl: false }, (err) => {
        if (err && !res.headersSent) next(err);
      });
    })().catch(next);
  };
}
