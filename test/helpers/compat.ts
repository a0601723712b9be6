/** Locates the third-party models and data (`../shared/compat`, or PLAYMIND_COMPAT_DIR). */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The compat folder, or null when absent. */
export const COMPAT_DIR: string | null = (() => {
  const dir = process.env.PLAYMIND_COMPAT_DIR
    ? resolve(process.env.PLAYMIND_COMPAT_DIR)
    : resolve(root, '..', 'shared', 'compat');
  return existsSync(dir) ? dir : null;
})();

/** The repository root. */
export const REPO_ROOT = root;

/** Path of a compat file; skips the calling test (saying why) when the compat folder is absent. */
export function compatFile(ctx: Mocha.Context, ...parts: string[]): string {
  if (!COMPAT_DIR) {
    console.log(
      `    (skipped: needs ${parts.join('/')} from the third-party compat folder; set PLAYMIND_COMPAT_DIR or place it at ../shared/compat)`,
    );
    ctx.skip();
  }
  return join(COMPAT_DIR!, ...parts);
}

/** Skips a whole suite, with the reason, when the compat folder is absent. */
export function requireCompat(ctx: Mocha.Context): string {
  if (!COMPAT_DIR) {
    console.log(
      `    (skipped: third-party compat folder not found; set PLAYMIND_COMPAT_DIR or place it at ../shared/compat)`,
    );
    ctx.skip();
  }
  return COMPAT_DIR!;
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'playmind-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
