/**
 * The decision log's writer: one {@link DecisionLog} per server (a folder), one
 * {@link MatchLog} per arena match. Recording a record is a synchronous encode
 * into the match's open frame (no I/O, no promise); a timer, at most one second
 * apart, compresses each open frame on libuv's thread pool, appends it to the
 * match's segment file and syncs the file, so the tick never waits on the disk
 * and a crash loses at most the last second. Segments rotate past
 * `segmentBytes`; past `maxBytes` in the folder the oldest closed segment files
 * are deleted. The format is in `decision-log-format.ts` and the README.
 *
 * @example
 * const log = await DecisionLog.open({ dir: './data/decision-log' });
 * const match = log.startMatch({ setup, meta: { room: roomId } });
 * match.tick({ tick: 1, hash });           // from the game's observer, every tick
 * await match.end('disposed');
 * await log.close();
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';
import { silentLogger, type Logger } from '../../sdk/index.js';
import {
  DECISION_LOG_FORMAT,
  FRAME_HEADER_BYTES,
  FrameEncoder,
  MATCH_ID,
  RecordType,
  parseSegmentFileName,
  segmentFileName,
  segmentHeader,
  type MatchDecision,
  type MatchInput,
  type MatchMeta,
  type MatchSetup,
  type MatchTick,
  type ShadowDecision,
} from './decision-log-format.js';

const deflateRawAsync = promisify(deflateRaw);

/** Options of {@link DecisionLog.open}. */
export interface DecisionLogOptions {
  /** The folder segment files are written to (created when missing). */
  dir: string;
  /** A segment file is closed and the match's next one begun once it reaches this size. @default 16 MiB */
  segmentBytes?: number;
  /** Most bytes of segment files in the folder; past it the oldest closed ones are deleted. @default 1 GiB */
  maxBytes?: number;
  /** Longest a record waits before it is written and synced, in ms (1..1000). @default 1000 */
  flushMs?: number;
  /** A frame is written early once its raw records reach this size. @default 1 MiB */
  frameBytes?: number;
  /**
   * Raw bytes a match may have waiting for the disk; past it (the disk is far slower
   * than the game) the match stops recording and says so in the log. @default 64 MiB
   */
  maxPendingBytes?: number;
  /** deflate level, 1 (fast) to 9 (small). @default 6 */
  level?: number;
  logger?: Logger;
}

/** Counters of a {@link DecisionLog} (exported in `/metrics`). */
export interface DecisionLogStats {
  /** Matches being recorded. */
  openMatches: number;
  /** Records encoded since the log was opened. */
  records: number;
  /** Frames written. */
  frames: number;
  /** Compressed bytes written (headers included). */
  bytesWritten: number;
  /** Raw (uncompressed) bytes of the frames written. */
  rawBytes: number;
  /** Bytes of segment files in the folder now. */
  bytesOnDisk: number;
  /** Segment files deleted to keep under `maxBytes`. */
  deletedFiles: number;
  /** Guard decisions recorded. */
  decisions: number;
  /** Guard rows (one per guard) in the decisions recorded. */
  guardDecisions: number;
  /** Matches that stopped recording because a write failed or the disk fell behind. */
  failedMatches: number;
}

/** What {@link DecisionLog.startMatch} takes. */
export interface StartMatch {
  /** Names the match's files. @default `<UTC time>-<random>` */
  matchId?: string;
  /** The game's setup (seed, configuration, tick and hash when recording began). */
  setup: MatchSetup;
  /** Free-form JSON kept with the setup (room id, models served, ...). */
  meta?: MatchMeta;
}

interface FileEntry {
  bytes: number;
  /** Creation order (older first). */
  order: number;
}

/** See the module documentation. */
export class DecisionLog {
  /** The folder written to. */
  readonly dir: string;
  readonly segmentBytes: number;
  readonly maxBytes: number;
  readonly flushMs: number;
  readonly frameBytes: number;
  readonly maxPendingBytes: number;
  readonly level: number;
  /** @internal */
  readonly log: Logger;
  private readonly files = new Map<string, FileEntry>();
  private readonly matches = new Set<MatchLog>();
  private readonly counters: DecisionLogStats = {
    openMatches: 0,
    records: 0,
    frames: 0,
    bytesWritten: 0,
    rawBytes: 0,
    bytesOnDisk: 0,
    deletedFiles: 0,
    decisions: 0,
    guardDecisions: 0,
    failedMatches: 0,
  };
  private order = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private closing: Promise<void> | null = null;
  private pruning: Promise<void> = Promise.resolve();

  private constructor(options: Required<Omit<DecisionLogOptions, 'logger'>> & { logger: Logger }) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes;
    this.maxBytes = options.maxBytes;
    this.flushMs = options.flushMs;
    this.frameBytes = options.frameBytes;
    this.maxPendingBytes = options.maxPendingBytes;
    this.level = options.level;
    this.log = options.logger;
    this.timer = setInterval(() => this.flushAll(), this.flushMs);
    this.timer.unref();
  }

  /**
   * Opens (creates) a decision-log folder.
   * @param options - see {@link DecisionLogOptions}
   * @returns the log, its size accounting started from the segment files already there
   * @throws TypeError / RangeError for bad options (naming the option)
   */
  static async open(options: DecisionLogOptions): Promise<DecisionLog> {
    if (!options || typeof options !== 'object') throw new TypeError(`'options' must be an object`);
    if (typeof options.dir !== 'string' || options.dir.length === 0)
      throw new TypeError(`'options.dir' must be a folder path`);
    const segmentBytes = positiveInt(options.segmentBytes, 16 * 1024 * 1024, 'segmentBytes', 1024);
    const maxBytes = positiveInt(options.maxBytes, 1024 * 1024 * 1024, 'maxBytes', 1024);
    const flushMs = positiveInt(options.flushMs, 1000, 'flushMs', 1);
    if (flushMs > 1000) throw new RangeError(`'options.flushMs' must be at most 1000 (got ${flushMs})`);
    const frameBytes = positiveInt(options.frameBytes, 1024 * 1024, 'frameBytes', 256);
    const maxPendingBytes = positiveInt(options.maxPendingBytes, 64 * 1024 * 1024, 'maxPendingBytes', 1024);
    const level = options.level ?? 6;
    if (!Number.isInteger(level) || level < 1 || level > 9)
      throw new RangeError(`'options.level' must be an integer in 1..9 (got ${String(options.level)})`);
    await mkdir(options.dir, { recursive: true });
    const log = new DecisionLog({
      dir: options.dir,
      segmentBytes,
      maxBytes,
      flushMs,
      frameBytes,
      maxPendingBytes,
      level,
      logger: options.logger ?? silentLogger,
    });
    await log.scan();
    return log;
  }

  /** Counters since the log was opened. */
  stats(): DecisionLogStats {
    return { ...this.counters, openMatches: this.matches.size };
  }

  /**
   * Starts recording a match. Its segment 0 file is created on the first flush.
   * @returns the match's recorder
   * @throws RangeError for a bad or taken match id; Error once the log is closing
   */
  startMatch(start: StartMatch): MatchLog {
    if (this.closing) throw new Error('the decision log is closed');
    if (!start || typeof start !== 'object' || !start.setup || typeof start.setup !== 'object')
      throw new TypeError(`'start.setup' must be the game's setup`);
    const matchId = start.matchId ?? newMatchId();
    if (!MATCH_ID.test(matchId))
      throw new RangeError(`'matchId' must be 1-128 letters, digits, '_' or '-' (got ${JSON.stringify(matchId)})`);
    if (this.files.has(segmentFileName(matchId, 0)) || [...this.matches].some((m) => m.id === matchId))
      throw new RangeError(`match '${matchId}' is already in ${this.dir}`);
    const m = new MatchLog(this, matchId, start.setup, start.meta ?? {});
    this.matches.add(m);
    return m;
  }

  /** Writes and syncs every record recorded so far, of every match. */
  async flush(): Promise<void> {
    await Promise.all([...this.matches].map((m) => m.flush()));
    await this.pruning;
  }

  /** Ends every open match (reason `shutdown`), writes what is left and stops the timer. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await Promise.all([...this.matches].map((m) => m.end('shutdown')));
      await this.pruning;
    })();
    return this.closing;
  }

  private flushAll(): void {
    for (const m of this.matches) void m.flush();
  }

  private async scan(): Promise<void> {
    const names = await readdir(this.dir);
    const found: { name: string; bytes: number; mtime: number }[] = [];
    for (const name of names) {
      if (!parseSegmentFileName(name)) continue;
      try {
        const s = await stat(join(this.dir, name));
        if (s.isFile()) found.push({ name, bytes: s.size, mtime: s.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
    found.sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));
    for (const f of found) {
      this.files.set(f.name, { bytes: f.bytes, order: this.order++ });
      this.counters.bytesOnDisk += f.bytes;
    }
  }

  /** @internal A segment file was created. */
  created(name: string): void {
    this.files.set(name, { bytes: 0, order: this.order++ });
  }

  /** @internal Bytes were appended to a segment file. */
  wrote(name: string, bytes: number, raw: number): void {
    const f = this.files.get(name);
    if (f) f.bytes += bytes;
    this.counters.bytesOnDisk += bytes;
    this.counters.bytesWritten += bytes;
    this.counters.rawBytes += raw;
    this.counters.frames++;
    if (this.counters.bytesOnDisk > this.maxBytes) this.pruning = this.pruning.then(() => this.prune());
  }

  /** @internal Counts a record. */
  counted(decisionRows: number): void {
    this.counters.records++;
    if (decisionRows >= 0) {
      this.counters.decisions++;
      this.counters.guardDecisions += decisionRows;
    }
  }

  /** @internal A match stopped recording. */
  failed(): void {
    this.counters.failedMatches++;
  }

  /** @internal A match ended. */
  ended(m: MatchLog): void {
    this.matches.delete(m);
  }

  /** Deletes the oldest segment files no match is writing until the folder is under `maxBytes`. */
  private async prune(): Promise<void> {
    if (this.counters.bytesOnDisk <= this.maxBytes) return;
    const open = new Set([...this.matches].map((m) => m.currentFile).filter((f): f is string => f !== null));
    const candidates = [...this.files.entries()].filter(([n]) => !open.has(n)).sort((a, b) => a[1].order - b[1].order);
    for (const [name, entry] of candidates) {
      if (this.counters.bytesOnDisk <= this.maxBytes) break;
      try {
        await unlink(join(this.dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log.warn({ err, file: name }, 'decision log: cannot delete an old segment');
          continue;
        }
      }
      this.files.delete(name);
      this.counters.bytesOnDisk -= entry.bytes;
      this.counters.deletedFiles++;
      this.log.info({ file: name, bytes: entry.bytes }, 'decision log: deleted the oldest segment (size cap)');
    }
    if (this.counters.bytesOnDisk > this.maxBytes)
      this.log.warn(
        { bytesOnDisk: this.counters.bytesOnDisk, maxBytes: this.maxBytes },
        'decision log: over its size cap, and every segment left is being written',
      );
  }
}

/**
 * Records one match. Every method is synchronous and never throws on I/O: a
 * failed write stops the match's recording (logged and counted) and the game
 * goes on.
 */
export class MatchLog {
  /** The match id (its files are `<id>.<segment>.pmdl`). */
  readonly id: string;
  private readonly encoder = new FrameEncoder();
  private segment = -1;
  private fh: FileHandle | null = null;
  private fileName: string | null = null;
  private fileBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private pendingRaw = 0;
  private stopped = false;
  private failure: unknown = null;
  private lastTick: number | null = null;
  private ending: Promise<void> | null = null;
  private flushQueued = false;

  /** @internal Use {@link DecisionLog.startMatch}. */
  constructor(
    private readonly owner: DecisionLog,
    id: string,
    private readonly setup: MatchSetup,
    private readonly meta: MatchMeta,
  ) {
    this.id = id;
  }

  /** The segment file being written (a name in the log's folder), or null. */
  get currentFile(): string | null {
    return this.fileName;
  }

  /** Whether the match still records (false once ended or after a failed write). */
  get recording(): boolean {
    return !this.stopped;
  }

  input(i: MatchInput): void {
    if (this.stopped) return;
    this.encoder.input(i);
    this.recorded(-1);
  }

  decision(d: MatchDecision): void {
    if (this.stopped) return;
    this.encoder.decision(d);
    this.recorded(d.actions.length);
  }

  tick(t: MatchTick): void {
    if (this.stopped) return;
    this.lastTick = t.tick;
    this.encoder.tick(t);
    this.recorded(-1);
  }

  shadow(s: ShadowDecision): void {
    if (this.stopped) return;
    this.encoder.shadow(s);
    this.recorded(-1);
  }

  private recorded(decisionRows: number): void {
    this.owner.counted(decisionRows);
    if (this.encoder.length >= this.owner.frameBytes && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        void this.flush();
      });
    }
  }

  /**
   * Ends the frame being recorded: compresses it, appends it and syncs the file.
   * @returns resolves once this frame (and every earlier one) is on disk, or failed
   */
  flush(): Promise<void> {
    if (this.encoder.records === 0) return this.chain;
    const raw = this.encoder.take();
    this.pendingRaw += raw.length;
    if (this.pendingRaw > this.owner.maxPendingBytes) {
      this.pendingRaw -= raw.length;
      this.fail(
        new Error(`${this.pendingRaw} bytes wait for the disk (maxPendingBytes ${this.owner.maxPendingBytes})`),
      );
      return this.chain;
    }
    this.chain = this.chain.then(() => this.writeFrame(raw));
    return this.chain;
  }

  /**
   * Records the end of the match, writes what is left and closes its file.
   * @param reason - why it ended @default 'ended'
   * @param tick - the last tick @default the last tick recorded
   */
  end(reason = 'ended', tick?: number): Promise<void> {
    this.ending ??= (async () => {
      if (!this.stopped) {
        this.encoder.json(RecordType.END, { tick: tick ?? this.lastTick, reason, at: new Date().toISOString() });
        await this.flush();
        this.stopped = true;
      }
      await this.chain;
      await this.closeFile();
      this.owner.ended(this);
    })();
    return this.ending;
  }

  private async writeFrame(raw: Uint8Array): Promise<void> {
    if (this.failure !== null) {
      this.pendingRaw -= raw.length;
      return;
    }
    try {
      const frame = await compressFrame(raw, this.owner.level);
      if (!this.fh) await this.openSegment();
      await this.append(frame, raw.length);
      await this.fh!.datasync();
      if (this.fileBytes >= this.owner.segmentBytes) await this.closeFile();
    } catch (err) {
      this.fail(err);
    } finally {
      this.pendingRaw -= raw.length;
    }
  }

  private async openSegment(): Promise<void> {
    this.segment++;
    const name = segmentFileName(this.id, this.segment);
    this.fh = await open(join(this.owner.dir, name), 'wx');
    this.fileName = name;
    this.fileBytes = 0;
    this.owner.created(name);
    const first = new FrameEncoder();
    first.json(RecordType.SEGMENT, { matchId: this.id, segment: this.segment, format: DECISION_LOG_FORMAT });
    if (this.segment === 0) first.json(RecordType.SETUP, { setup: this.setup, meta: this.meta });
    const raw = first.take();
    const header = segmentHeader(this.segment);
    const frame = await compressFrame(raw, this.owner.level);
    const both = new Uint8Array(header.length + frame.length);
    both.set(header);
    both.set(frame, header.length);
    await this.append(both, raw.length);
  }

  private async append(bytes: Uint8Array, raw: number): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh!.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
    this.fileBytes += bytes.length;
    this.owner.wrote(this.fileName!, bytes.length, raw);
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.fileName = null;
    if (fh) await fh.close().catch(() => undefined);
  }

  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err ?? new Error('unknown failure');
    this.stopped = true;
    this.owner.failed();
    this.owner.log.error(
      { err, match: this.id, segment: this.segment },
      'decision log: a write failed; this match is no longer recorded',
    );
  }
}

/** Compresses one frame's raw records and prefixes the frame header. */
async function compressFrame(raw: Uint8Array, level: number): Promise<Uint8Array> {
  const body = await deflateRawAsync(raw, { level });
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  const v = new DataView(frame.buffer);
  v.setUint32(0, body.length, true);
  v.setUint32(4, raw.length, true);
  v.setUint32(8, crc32(body), true);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

function newMatchId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${t}-${randomBytes(4).toString('hex')}`;
}

function positiveInt(v: number | undefined, dflt: number, name: string, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`'options.${name}' must be an integer ≥ ${min} (got ${String(v)})`);
  return v;
}
