/**
 * Quest telemetry: one JSON line per quest event, appended to a file in the
 * format the recommender trainer reads (`models/train/recs/telemetry.ts`):
 *
 * ```
 * {"player":"p-17","quest":"q-forest-1","outcome":"taken","time":"2025-03-01T10:12:00.000Z"}
 * ```
 *
 * Writes are batched and serialised (one append at a time, in order), never
 * awaited by the game loop.
 *
 * @module
 */
import { appendFile, mkdir } from 'node:fs/promises';
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

/** Appends quest events to a JSONL file (its folder is created on the first write). */
export class QuestTelemetry {
  /** The file appended to. */
  readonly file: string;
  private buffer: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private ready: Promise<unknown> | null = null;
  private readonly onError: (err: unknown) => void;

  /**
   * @param file - the JSONL file
   * @param onError - called when a write fails (the lines are dropped) @default ignore
   * @throws TypeError when `file` is not a non-empty string
   */
  constructor(file: string, onError: (err: unknown) => void = () => {}) {
    if (typeof file !== 'string' || file.length === 0) throw new TypeError(`'file' must be a non-empty path`);
    this.file = file;
    this.onError = onError;
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
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.ready ??= mkdir(dirname(this.file), { recursive: true });
    const ready = this.ready;
    this.chain = this.chain
      .then(() => ready)
      .then(() => appendFile(this.file, text, 'utf8'))
      .catch((err: unknown) => {
        this.ready = null;
        this.onError(err);
      });
  }
}
