/**
 * Shared helpers of the attack suite (`test/attack/*.test.ts`): a copy of the repository's
 * real models for a server to serve, and one real arena player (an `@colyseus/sdk` client
 * over WebSocket) watching its state patches while an attack runs.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type Room } from '@colyseus/sdk';
import { RoomName } from '../../sdk/protocol.js';

/** The repository root. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/**
 * A temporary model repository holding a copy of the repository's trained models
 * (`models/npc-guard`, `models/quest-recs`: manifests and version folders).
 * @returns the folder, and a function removing it
 */
export async function copyOfRepoModels(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'playmind-attack-'));
  for (const name of ['npc-guard', 'quest-recs']) {
    await cp(join(REPO_ROOT, 'models', name, 'manifest.json'), join(dir, name, 'manifest.json'));
    await cp(join(REPO_ROOT, 'models', name, '1'), join(dir, name, '1'), { recursive: true });
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** What a player saw over a window of time. */
export interface PatchWindow {
  /** State patches received. */
  patches: number;
  seconds: number;
  /** Patches per second. */
  perSecond: number;
  /** Longest time between two patches, in ms. */
  maxGapMs: number;
  /** Ticks the player's room made in the window, as its synced `tick` shows them. */
  ticks: number;
}

/** A player in an arena room, counting the state patches it receives. */
export interface WatchingPlayer {
  readonly room: Room;
  /** Patches received since the player joined. */
  readonly patches: number;
  /** Starts a window; call the function it returns to read what was seen since. */
  window(): () => PatchWindow;
  /** Leaves the room. */
  leave(): Promise<void>;
}

/**
 * Joins (or creates) an arena room as a real player and counts its state patches (20/s
 * when the server is healthy).
 * @param url - the server, `http://127.0.0.1:port`
 * @param options - join options (`name`, `playerId`)
 */
export async function watchingPlayer(url: string, options: Record<string, unknown> = {}): Promise<WatchingPlayer> {
  const room = await new Client(url).joinOrCreate(RoomName.ARENA, { name: 'watcher', ...options });
  room.onMessage('recommendations', () => undefined); // the quest offers: not what it watches
  let patches = 0;
  let last = performance.now();
  let maxGap = 0;
  /** The room's tick as the player last saw it (the synced state's `tick`). */
  const serverTick = (): number => Number((room.state as { tick?: unknown } | undefined)?.tick ?? 0);
  room.onStateChange(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    patches++;
  });
  return {
    room,
    get patches() {
      return patches;
    },
    window() {
      const p0 = patches;
      const tick0 = serverTick();
      const t0 = performance.now();
      maxGap = 0;
      last = t0;
      return () => {
        const seconds = (performance.now() - t0) / 1000;
        const n = patches - p0;
        return {
          patches: n,
          seconds,
          perSecond: n / seconds,
          maxGapMs: Math.max(maxGap, performance.now() - last),
          ticks: serverTick() - tick0,
        };
      };
    },
    async leave() {
      await room.leave(true).catch(() => undefined);
    },
  };
}

/** Polls `cond` every 10 ms until it holds, failing after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
