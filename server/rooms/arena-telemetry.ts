/**
 * Quest telemetry: one JSON line per quest event, appended to a file in the
 * format the recommender trainer reads (`models/train/recs/telemetry.ts`):
 *
 * ```
 * {"player":"p-17","quest":"q-forest-1","outcome":"taken","time":"2025-03-01T10:12:00.000Z"}
 * ```
 *
 * Writes are batched and serialised (one append at a time, in order), never
 * awaited by the game loop. One instance per file is shared by every room of a server
 * (`ServerServices.telemetry`), so its size is known: an append that would take the file
 * past `maxBytes` first rotates it (`<file>` → `<file>.1` → … → `<file>.<keep>`, the oldest
 * deleted), so the telemetry on disk stays under `(keep + 1) × maxBytes` whatever clients do.
 * The retrainer (`server/rollout/recs-retrainer.ts`) reads the rotated files too.
 *
 * @module
 */
import { appendFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What happened to a quest. */
export type QuestOutcome = 'taken' | 'finished' | 'abandoned';

/** One telemetry line. */
export interface QuestTelemetryEvent {
  player: string;
  quest: string;
  outcome: QuestOutcome;
  /** ISO-8601, UTC. */
  time: string;
}

/** Rotated files kept by default (`<file>.1` … `<file>.4`). */
export const TELEMETRY_ROTATED_FILES = 4;

/** Options of {@link QuestTelemetry}. */
export interface QuestTelemetryOptions {
  /** Most bytes of the file before it is rotated. @default Infinity (never rotated) */
  maxBytes?: number;
  /** Rotated files kept. @default TELEMETRY_ROTATED_FILES */
  keep?: number;
}

/** Appends quest events to a JSONL file (its folder is created on the first write). */
export class QuestTelemetry {
  /** The file appended to. */
  readonly file: string;
  /** Size past which the file is rotated. */
  readonly maxBytes: number;
  /** Rotated files kept. */
  readonly keep: number;
  /** The file's size as this writer knows it (read from disk before the first write). */
  private size: number | null = null;
  private buffer: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private ready: Promise<unknown> | null = null;
  private readonly onError: (err: unknown) => void;

  /**
   * @param file - the JSONL file
   * @param onError - called when a write fails (the lines are dropped) @default ignore
   * @param options - size cap and rotated files kept
   * @throws TypeError when `file` is not a non-empty string
   */
  constructor(file: string, onError: (err: unknown) => void = () => {}, options: QuestTelemetryOptions = {}) {
    if (typeof file !== 'string' || file.length === 0) throw new TypeError(`'file' must be a non-empty path`);
    this.file = file;
    this.onError = onError;
    this.maxBytes = options.maxBytes ?? Infinity;
    this.keep = options.keep ?? TELEMETRY_ROTATED_FILES;
    if (!(this.maxBytes > 0)) throw new RangeError(`'maxBytes' must be > 0, got ${this.maxBytes}`);
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new RangeError(`'keep' must be an integer >= 1`);
  }

  /**
   * Queues one event (written on the next turn of the event loop).
   *
   * @param player - the player's id
   * @param quest - the quest id
   * @param outcome - taken, finished or abandoned
   * @param time - when @default now
   */
  record(player: string, quest: string, outcome: QuestOutcome, time: Date = new Date()): void {
    const e: QuestTelemetryEvent = { player, quest, outcome, time: time.toISOString() };
    this.buffer.push(JSON.stringify(e));
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writeBuffered();
    });
  }

  /** Resolves once every event recorded so far is on disk (or failed). */
  flush(): Promise<void> {
    this.writeBuffered();
    return this.chain;
  }

  private writeBuffered(): void {
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    this.ready ??= mkdir(dirname(this.file), { recursive: true });
    const ready = this.ready;
    this.chain = this.chain
      .then(() => ready)
      .then(() => this.append(lines))
      .catch((err: unknown) => {
        this.ready = null;
        this.size = null;
        this.onError(err);
      });
  }

  /** Appends the lines, rotating first whenever the next one would take the file past `maxBytes`. */
  private async append(lines: readonly string[]): Promise<void> {
    if (this.maxBytes === Infinity) {
      await appendFile(this.file, lines.join('\n') + '\n', 'utf8');
      return;
    }
    this.size ??= await stat(this.file).then(
      (s) => s.size,
      () => 0,
    );
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line, 'utf8') + 1;
      if (this.size + chunkBytes + bytes > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunk) await appendFile(this.file, chunk, 'utf8');
        await this.rotate();
        chunk = '';
        chunkBytes = 0;
      }
      chunk += line + '\n';
      chunkBytes += bytes;
    }
    if (chunk) await appendFile(this.file, chunk, 'utf8');
    this.size += chunkBytes;
  }

  /** `<file>.<keep>` goes; every other file moves up one; `<file>` starts empty. */
  private async rotate(): Promise<void> {
    const move = (from: string, to: string) =>
      rename(from, to).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    await rm(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) await move(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    await move(this.file, `${this.file}.1`);
    this.size = 0;
  }
}
