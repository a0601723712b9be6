/**
 * The decision log's on-disk format (version 1): what an arena match records and
 * how its records are laid out in bytes. The writer (`decision-log-writer.ts`) and
 * the reader (`decision-log-reader.ts`) share these codecs; the README's
 * "Decision log format" section describes the same layout for other readers.
 *
 * A match is one or more **segment files** `<matchId>.<segment>.pmdl` (segment
 * 0000, 0001, …). A segment is a 16-byte header and a sequence of **frames**:
 *
 * ```
 * header  "PMDL" | u8 version (1) | u8 flags (0) | u16 0 | u32 segment | u32 0
 * frame   u32 compressed length | u32 raw length | u32 crc32(compressed) | compressed bytes
 * ```
 *
 * A frame holds the records appended since the previous one, deflate-raw
 * compressed (RFC 1951); the writer writes one frame per flush (at most one
 * second apart) and syncs the file after it, so a crash loses at most the
 * frame being written. A frame that is cut short or fails its crc32 ends the
 * readable part of the file. Inside a frame, records follow each other:
 *
 * ```
 * record  u8 type | varint body length | body
 * ```
 *
 * Integers are little-endian; `varint` is unsigned LEB128; `str` is a varint
 * byte length and UTF-8; `ref` is a varint index into the frame's string table
 * (built by `STRING` records; every frame starts with an empty table, so each
 * frame decodes on its own). Unknown record types are skipped by their length.
 *
 * | type | record | body |
 * |---:|---|---|
 * | 1 | `SEGMENT` | JSON (str): `{ matchId, segment, format }` — first record of every segment |
 * | 2 | `SETUP` | JSON (str): `{ setup, meta }` — the game's seed and configuration (segment 0) |
 * | 3 | `STRING` | str — the next entry of the frame's string table |
 * | 4 | `INPUT` | varint tick, u8 kind, ref player, then per kind (below) |
 * | 5 | `DECISION` | varint tick, varint tick − observedTick, ref model, u8 outcome, ref servedBy, varint n, n × u8 action, u8 has probabilities, [n × 6 × f32], [ref reason] |
 * | 6 | `TICK` | varint tick, u32 state hash |
 * | 7 | `SHADOW` | varint observedTick, ref model, f32 latency ms, varint n, n × u8 action, u8 has probabilities, [n × 6 × f32] |
 * | 8 | `END` | JSON (str): `{ tick, reason, at }` |
 *
 * `INPUT` kinds: 0 join (ref telemetry id, [ref name]), 1 leave, 2 input (u8 bits:
 * 1 attack, 2 "dx and dy are each −1, 0 or 1", then u8 (dx+1) | (dy+1) << 2 when
 * bit 2 is set, else f64 dx, f64 dy), 3 take-quest (ref quest id), 4 finish-quest,
 * 5 abandon-quest, 6 guard-mode (player ref '' — the whole arena — then u8 mode:
 * 0 model, 1 scripted). Fields in brackets are optional trailing fields: a reader
 * takes them when the record's body has bytes left.
 * `DECISION` outcomes: 0 model, 1 fallback, 2 deadline, 3 overloaded, 4 error, 5 scripted;
 * `reason` is the error code that made the fallback answer ('' otherwise).
 *
 * @module
 */
import type { GameInput, GuardMode, RoundRules } from '../game/index.js';
import type { ArenaConfigInput, BotStyle, QuestSpec } from '../sim/index.js';
import { GUARD_ACTION_COUNT } from '../sim/index.js';

/** The format version this code writes and reads. */
export const DECISION_LOG_FORMAT = 1;
/** The first four bytes of every segment file. */
export const SEGMENT_MAGIC = 'PMDL';
/** Bytes of a segment file's header. */
export const SEGMENT_HEADER_BYTES = 16;
/** Bytes of a frame's header. */
export const FRAME_HEADER_BYTES = 12;
/** The file name extension of segment files. */
export const SEGMENT_EXTENSION = '.pmdl';

/** Record type codes. */
export const RecordType = {
  SEGMENT: 1,
  SETUP: 2,
  STRING: 3,
  INPUT: 4,
  DECISION: 5,
  TICK: 6,
  SHADOW: 7,
  END: 8,
} as const;

/** How a guard decision ended (the arena game's outcomes). */
export type LoggedOutcome = 'model' | 'fallback' | 'deadline' | 'overloaded' | 'error' | 'scripted';
/** Outcome codes, by position. */
export const OUTCOMES: readonly LoggedOutcome[] = ['model', 'fallback', 'deadline', 'overloaded', 'error', 'scripted'];

/** A quest as the game offered it. */
export interface LoggedQuest extends QuestSpec {
  readonly title: string;
  readonly tags: readonly string[];
}

/** How the game was set up: with the inputs and decisions, enough to re-run it. */
export interface MatchSetup {
  readonly seed: number;
  /** The arena configuration (without guard and player counts, given apart). */
  readonly arena: ArenaConfigInput;
  readonly guardCount: number;
  readonly minPlayers: number;
  /** The fixed roster of scripted bots, if the game has one. */
  readonly bots: readonly BotStyle[] | null;
  readonly quests: readonly LoggedQuest[];
  /** The round rules, or null (or absent) for one endless match. */
  readonly rounds?: RoundRules | null;
  /** The guard mode at the start. @default 'model' */
  readonly guardMode?: GuardMode;
  /** The tick when recording began (0: the match can be re-run from its start). */
  readonly tick: number;
  /** The state hash at that tick. */
  readonly hash: number;
}

/** What else the server knew when the match started (free-form JSON; see the README). */
export type MatchMeta = Readonly<Record<string, unknown>>;

/** An input, with the tick it took effect at (after tick `tick` was simulated): the game's own inputs. */
export type MatchInput = GameInput;

/** A guard decision as it was applied. */
export interface MatchDecision {
  /** The tick it took effect at. */
  readonly tick: number;
  /** The tick whose state was observed. */
  readonly observedTick: number;
  /** One `GUARD_ACTIONS` index per guard, as applied. */
  readonly actions: Uint8Array;
  /** `npc-guard@<version>`, `npc-guard@fallback:<heuristic>`, ... */
  readonly model: string;
  readonly outcome: LoggedOutcome;
  /** `local`, `remote`, `fallback`, or ''. */
  readonly servedBy: string;
  /** n × 6 probabilities (`GUARD_ACTIONS` order) where the model gave them. */
  readonly probabilities: Float32Array | null;
  /** For `fallback`: the error code that made the heuristic answer. @default '' */
  readonly reason?: string;
}

/** One simulated tick and the state hash after it. */
export interface MatchTick {
  readonly tick: number;
  readonly hash: number;
}

/** What a shadow (candidate) version decided for the same guards, without acting. */
export interface ShadowDecision {
  /** The tick whose state was observed. */
  readonly observedTick: number;
  /** `npc-guard@<version>` of the candidate. */
  readonly model: string;
  readonly latencyMs: number;
  readonly actions: Uint8Array;
  readonly probabilities: Float32Array | null;
}

/** How a match ended. */
export interface MatchEnd {
  readonly tick: number;
  /** `disposed`, `shutdown`, ... */
  readonly reason: string;
  /** ISO-8601. */
  readonly at: string;
}

/** A segment's first record. */
export interface SegmentInfo {
  readonly matchId: string;
  readonly segment: number;
  readonly format: number;
}

const INPUT_KINDS = [
  'join',
  'leave',
  'input',
  'take-quest',
  'finish-quest',
  'abandon-quest',
  'guard-mode',
] as const satisfies readonly MatchInput['type'][];
const GUARD_MODES: readonly GuardMode[] = ['model', 'scripted'];
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A growable byte buffer with the format's primitive writers. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written. */
  length = 0;

  constructor(initial = 4096) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }

  /** Unsigned LEB128, for integers in 0..2^53. */
  varint(v: number): this {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
    return this;
  }

  f32(v: number): this {
    this.ensure(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  f32array(a: Float32Array): this {
    if (LITTLE_ENDIAN) return this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    for (const v of a) this.f32(v);
    return this;
  }

  str(s: string): this {
    const b = textEncoder.encode(s);
    return this.varint(b.length).bytes(b);
  }

  /** The bytes written so far (a view; valid until the next write). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Copies out the bytes written and empties the buffer. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

/** Thrown by {@link ByteReader} when a record's bytes end early or are invalid. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/** Reads the format's primitives from bytes. */
export class ByteReader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new FormatError(`record ends early (needs ${n} more bytes at ${this.pos})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new FormatError(`varint longer than 8 bytes at ${this.pos}`);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  f32array(n: number): Float32Array {
    const out = new Float32Array(n);
    if (LITTLE_ENDIAN) {
      new Uint8Array(out.buffer).set(this.bytes(n * 4));
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.f32();
    return out;
  }

  str(): string {
    const n = this.varint();
    this.need(n);
    try {
      return textDecoder.decode(this.buf.subarray(this.pos, this.pos + n));
    } catch {
      throw new FormatError(`invalid UTF-8 at ${this.pos}`);
    } finally {
      this.pos += n;
    }
  }
}

/**
 * Encodes records into one frame's raw bytes, interning strings in the frame's
 * table. {@link FrameEncoder.take} ends the frame (and its table).
 */
export class FrameEncoder {
  private readonly out = new ByteWriter(16 * 1024);
  private readonly body = new ByteWriter(1024);
  private readonly strings = new Map<string, number>();
  /** Records in the current frame. */
  records = 0;

  /** Raw bytes of the current frame so far. */
  get length(): number {
    return this.out.length;
  }

  private ref(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) {
      id = this.strings.size;
      this.strings.set(s, id);
      this.body.length = 0;
      this.emit(RecordType.STRING, this.body.str(s));
    }
    return id;
  }

  private emit(type: number, body: ByteWriter): void {
    this.out.u8(type).varint(body.length).bytes(body.written());
    this.records++;
  }

  /** A JSON record (`SEGMENT`, `SETUP`, `END`). */
  json(type: number, value: unknown): void {
    this.body.length = 0;
    this.emit(type, this.body.str(JSON.stringify(value)));
  }

  input(i: MatchInput): void {
    const player = this.ref(i.type === 'guard-mode' ? '' : i.playerId);
    const extra = i.type === 'join' ? this.ref(i.telemetryId) : i.type === 'take-quest' ? this.ref(i.questId) : 0;
    const name = i.type === 'join' && i.name ? this.ref(i.name) : -1;
    const b = this.body;
    b.length = 0;
    b.varint(i.tick).u8(INPUT_KINDS.indexOf(i.type)).varint(player);
    if (i.type === 'join' || i.type === 'take-quest') {
      b.varint(extra);
      if (name >= 0) b.varint(name);
    } else if (i.type === 'guard-mode') b.u8(GUARD_MODES.indexOf(i.mode));
    else if (i.type === 'input') {
      const { dx, dy, attack } = i.input;
      const small = isUnit(dx) && isUnit(dy);
      b.u8((attack ? 1 : 0) | (small ? 2 : 0));
      if (small) b.u8(dx + 1 + ((dy + 1) << 2));
      else b.f64(dx).f64(dy);
    }
    this.emit(RecordType.INPUT, b);
  }

  decision(d: MatchDecision): void {
    const model = this.ref(d.model);
    const servedBy = this.ref(d.servedBy);
    const reason = d.reason ? this.ref(d.reason) : -1;
    const b = this.body;
    b.length = 0;
    b.varint(d.tick)
      .varint(d.tick - d.observedTick)
      .varint(model)
      .u8(OUTCOMES.indexOf(d.outcome));
    b.varint(servedBy).varint(d.actions.length).bytes(d.actions);
    writeProbabilities(b, d.probabilities, d.actions.length);
    if (reason >= 0) b.varint(reason);
    this.emit(RecordType.DECISION, b);
  }

  tick(t: MatchTick): void {
    this.body.length = 0;
    this.emit(RecordType.TICK, this.body.varint(t.tick).u32(t.hash));
  }

  shadow(s: ShadowDecision): void {
    const model = this.ref(s.model);
    const b = this.body;
    b.length = 0;
    b.varint(s.observedTick).varint(model).f32(s.latencyMs).varint(s.actions.length).bytes(s.actions);
    writeProbabilities(b, s.probabilities, s.actions.length);
    this.emit(RecordType.SHADOW, b);
  }

  /** Ends the frame: its raw bytes, and a fresh string table for the next one. */
  take(): Uint8Array {
    this.strings.clear();
    this.records = 0;
    return this.out.take();
  }
}

function isUnit(v: number): boolean {
  return v === -1 || v === 0 || v === 1;
}

function writeProbabilities(b: ByteWriter, p: Float32Array | null, n: number): void {
  if (p && p.length === n * GUARD_ACTION_COUNT) b.u8(1).f32array(p);
  else b.u8(0);
}

/** A record decoded from a frame. */
export type DecodedRecord =
  | { kind: 'segment'; value: SegmentInfo }
  | { kind: 'setup'; setup: MatchSetup; meta: MatchMeta }
  | { kind: 'input'; value: MatchInput }
  | { kind: 'decision'; value: MatchDecision }
  | { kind: 'tick'; value: MatchTick }
  | { kind: 'shadow'; value: ShadowDecision }
  | { kind: 'end'; value: MatchEnd };

/**
 * Decodes one frame's raw bytes.
 * @throws FormatError when a record is cut short or refers to an unknown string
 */
export function decodeFrame(raw: Uint8Array): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  const strings: string[] = [];
  const r = new ByteReader(raw);
  const ref = (rr: ByteReader): string => {
    const i = rr.varint();
    const s = strings[i];
    if (s === undefined) throw new FormatError(`string ${i} is not defined in this frame`);
    return s;
  };
  while (r.remaining > 0) {
    const type = r.u8();
    const len = r.varint();
    if (len > r.remaining) throw new FormatError(`record of ${len} bytes at ${r.pos} ends after the frame`);
    const b = new ByteReader(raw, r.pos, r.pos + len);
    r.pos += len;
    switch (type) {
      case RecordType.STRING:
        strings.push(b.str());
        break;
      case RecordType.SEGMENT:
        out.push({ kind: 'segment', value: parseJson(b.str(), 'segment') as SegmentInfo });
        break;
      case RecordType.SETUP: {
        const v = parseJson(b.str(), 'setup') as { setup: MatchSetup; meta?: MatchMeta };
        out.push({ kind: 'setup', setup: v.setup, meta: v.meta ?? {} });
        break;
      }
      case RecordType.END:
        out.push({ kind: 'end', value: parseJson(b.str(), 'end') as MatchEnd });
        break;
      case RecordType.TICK:
        out.push({ kind: 'tick', value: { tick: b.varint(), hash: b.u32() } });
        break;
      case RecordType.INPUT:
        out.push({ kind: 'input', value: decodeInput(b, ref) });
        break;
      case RecordType.DECISION: {
        const tick = b.varint();
        const observedTick = tick - b.varint();
        const model = ref(b);
        const outcome = OUTCOMES[b.u8()];
        if (!outcome) throw new FormatError(`unknown decision outcome at ${b.pos - 1}`);
        const servedBy = ref(b);
        const n = b.varint();
        const actions = b.bytes(n);
        const probabilities = b.u8() === 1 ? b.f32array(n * GUARD_ACTION_COUNT) : null;
        const reason = b.remaining > 0 ? ref(b) : '';
        out.push({
          kind: 'decision',
          value: { tick, observedTick, model, outcome, servedBy, actions, probabilities, reason },
        });
        break;
      }
      case RecordType.SHADOW: {
        const observedTick = b.varint();
        const model = ref(b);
        const latencyMs = b.f32();
        const n = b.varint();
        const actions = b.bytes(n);
        const probabilities = b.u8() === 1 ? b.f32array(n * GUARD_ACTION_COUNT) : null;
        out.push({ kind: 'shadow', value: { observedTick, model, latencyMs, actions, probabilities } });
        break;
      }
      default:
        // A record type from a later format: skipped by its length.
        break;
    }
  }
  return out;
}

function decodeInput(b: ByteReader, ref: (r: ByteReader) => string): MatchInput {
  const tick = b.varint();
  const kind = INPUT_KINDS[b.u8()];
  const playerId = ref(b);
  switch (kind) {
    case 'join': {
      const telemetryId = ref(b);
      return b.remaining > 0
        ? { type: 'join', tick, playerId, telemetryId, name: ref(b) }
        : { type: 'join', tick, playerId, telemetryId };
    }
    case 'leave':
      return { type: 'leave', tick, playerId };
    case 'finish-quest':
      return { type: 'finish-quest', tick, playerId };
    case 'abandon-quest':
      return { type: 'abandon-quest', tick, playerId };
    case 'guard-mode': {
      const mode = GUARD_MODES[b.u8()];
      if (!mode) throw new FormatError(`unknown guard mode at ${b.pos - 1}`);
      return { type: 'guard-mode', tick, mode };
    }
    case 'take-quest':
      return { type: 'take-quest', tick, playerId, questId: ref(b) };
    case 'input': {
      const bits = b.u8();
      let dx: number;
      let dy: number;
      if (bits & 2) {
        const packed = b.u8();
        dx = (packed & 3) - 1;
        dy = ((packed >> 2) & 3) - 1;
      } else {
        dx = b.f64();
        dy = b.f64();
      }
      return { type: 'input', tick, playerId, input: { dx, dy, attack: (bits & 1) === 1 } };
    }
    default:
      throw new FormatError(`unknown input kind at ${b.pos}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FormatError(`the ${what} record is not JSON`);
  }
}

/**
 * @param segment - the segment number
 * @returns a segment file's 16-byte header
 */
export function segmentHeader(segment: number): Uint8Array {
  const h = new Uint8Array(SEGMENT_HEADER_BYTES);
  h.set(textEncoder.encode(SEGMENT_MAGIC), 0);
  const v = new DataView(h.buffer);
  v.setUint8(4, DECISION_LOG_FORMAT);
  v.setUint32(8, segment, true);
  return h;
}

/** @returns the file name of a match's segment */
export function segmentFileName(matchId: string, segment: number): string {
  return `${matchId}.${String(segment).padStart(4, '0')}${SEGMENT_EXTENSION}`;
}

/** Splits a segment file name into its match id and segment, or null when it is not one. */
export function parseSegmentFileName(name: string): { matchId: string; segment: number } | null {
  const m = /^([A-Za-z0-9_-]{1,128})\.(\d{4,})\.pmdl$/.exec(name);
  return m ? { matchId: m[1]!, segment: Number(m[2]) } : null;
}

/** Match ids name files: letters, digits, `_` and `-`, 1 to 128 of them. */
export const MATCH_ID = /^[A-Za-z0-9_-]{1,128}$/;
