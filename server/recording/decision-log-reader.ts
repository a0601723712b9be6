/**
 * The decision log's reader: a match's segment files back into its setup,
 * inputs, decisions, tick hashes and shadow decisions. A file cut short by a
 * crash reads up to its last whole frame (`truncated` says so); a missing
 * segment ends the match there.
 *
 * @example
 * const match = await readMatchLog('data/decision-log/20260101T120000-ab12cd34.0000.pmdl');
 * console.log(match.ticks.length, match.decisions.length, match.truncated);
 *
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import {
  DECISION_LOG_FORMAT,
  FRAME_HEADER_BYTES,
  FormatError,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  decodeFrame,
  parseSegmentFileName,
  segmentFileName,
  type DecodedRecord,
  type MatchDecision,
  type MatchEnd,
  type MatchInput,
  type MatchMeta,
  type MatchSetup,
  type MatchTick,
  type ShadowDecision,
} from './decision-log-format.js';

/** A match as read back. */
export interface MatchRecord {
  readonly matchId: string;
  /** Null when segment 0 is missing (deleted by the size cap): the match cannot be re-run. */
  readonly setup: MatchSetup | null;
  readonly meta: MatchMeta;
  /** In the order they took effect. */
  readonly inputs: readonly MatchInput[];
  readonly decisions: readonly MatchDecision[];
  /** Every tick's state hash, in order. */
  readonly ticks: readonly MatchTick[];
  readonly shadows: readonly ShadowDecision[];
  /** How it ended, or null while it is being recorded or when it was cut short. */
  readonly end: MatchEnd | null;
  /** The segment files read, in order. */
  readonly files: readonly string[];
  /** Bytes of those files. */
  readonly bytes: number;
  /** Whether reading stopped before the end of the last file (a crash, or damage). */
  readonly truncated: boolean;
  /** Why reading stopped early (the file and the reason), when it did. */
  readonly problem: string | null;
}

/** One match in a decision-log folder. */
export interface MatchListing {
  readonly matchId: string;
  /** Its segment files, in order (full paths). */
  readonly files: readonly string[];
  readonly bytes: number;
  /** Whether segment 0 is there (the match can be re-run from its start). */
  readonly fromStart: boolean;
  /** Modification time of its last segment. */
  readonly modified: Date;
}

/** One segment file, decoded. */
export interface SegmentRead {
  readonly segment: number;
  readonly records: readonly DecodedRecord[];
  readonly bytes: number;
  readonly truncated: boolean;
  readonly problem: string | null;
}

/**
 * Decodes one segment file's bytes, stopping at the first frame that is cut
 * short or damaged.
 *
 * @param bytes - the file's contents
 * @param file - its name, for messages
 * @returns its records and whether the file ended early
 * @throws PlaymindError `invalid_argument` when the bytes are not a decision-log segment
 */
export function decodeSegment(bytes: Uint8Array, file: string): SegmentRead {
  if (bytes.length < SEGMENT_HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 4)) !== SEGMENT_MAGIC) {
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${file}: not a Playmind decision log (no PMDL header)`, {
      details: { file },
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== DECISION_LOG_FORMAT) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${file}: decision-log format ${version}; this version of Playmind reads format ${DECISION_LOG_FORMAT}`,
      { details: { file, version } },
    );
  }
  const segment = view.getUint32(8, true);
  const records: DecodedRecord[] = [];
  let pos = SEGMENT_HEADER_BYTES;
  let problem: string | null = null;
  while (pos < bytes.length) {
    if (bytes.length - pos < FRAME_HEADER_BYTES) {
      problem = `${file}: the last frame header is cut short at byte ${pos}`;
      break;
    }
    const compressed = view.getUint32(pos, true);
    const rawLength = view.getUint32(pos + 4, true);
    const crc = view.getUint32(pos + 8, true);
    const start = pos + FRAME_HEADER_BYTES;
    if (start + compressed > bytes.length) {
      problem = `${file}: the last frame is cut short at byte ${pos} (${bytes.length - start} of ${compressed} bytes)`;
      break;
    }
    const body = bytes.subarray(start, start + compressed);
    if (crc32(body) !== crc) {
      problem = `${file}: the frame at byte ${pos} fails its crc32`;
      break;
    }
    let raw: Uint8Array;
    try {
      raw = inflateRawSync(body);
    } catch (err) {
      problem = `${file}: the frame at byte ${pos} does not inflate (${(err as Error).message})`;
      break;
    }
    if (raw.length !== rawLength) {
      problem = `${file}: the frame at byte ${pos} inflates to ${raw.length} bytes, its header says ${rawLength}`;
      break;
    }
    try {
      records.push(...decodeFrame(raw));
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      problem = `${file}: the frame at byte ${pos} is damaged (${err.message})`;
      break;
    }
    pos = start + compressed;
  }
  return { segment, records, bytes: bytes.length, truncated: problem !== null, problem };
}

/**
 * Reads a match from its segment files.
 *
 * @param path - any segment file of the match (`<dir>/<matchId>.<segment>.pmdl`); every
 *   segment of that match in the same folder is read, from the lowest
 * @returns the match (see {@link MatchRecord})
 * @throws PlaymindError `invalid_argument` when the file is missing or is not a decision log
 */
export async function readMatchLog(path: string): Promise<MatchRecord> {
  const name = basename(path);
  const parsed = parseSegmentFileName(name);
  if (!parsed) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${path}: not a decision-log segment name (expected <matchId>.<segment>.pmdl)`,
      { details: { file: path } },
    );
  }
  const dir = dirname(path);
  const segments = (await listSegments(dir)).get(parsed.matchId);
  if (!segments || segments.length === 0) {
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${path}: no such file`, { details: { file: path } });
  }
  const inputs: MatchInput[] = [];
  const decisions: MatchDecision[] = [];
  const ticks: MatchTick[] = [];
  const shadows: ShadowDecision[] = [];
  const files: string[] = [];
  let setup: MatchSetup | null = null;
  let meta: MatchMeta = {};
  let end: MatchEnd | null = null;
  let bytes = 0;
  let truncated = false;
  let problem: string | null = null;
  let expected = segments[0]!;
  for (const seg of segments) {
    const file = join(dir, segmentFileName(parsed.matchId, seg));
    if (seg !== expected) {
      truncated = true;
      problem = `${join(dir, segmentFileName(parsed.matchId, expected))}: missing (the match stops there)`;
      break;
    }
    expected++;
    const read = decodeSegment(await readFile(file), file);
    files.push(file);
    bytes += read.bytes;
    for (const r of read.records) {
      switch (r.kind) {
        case 'setup':
          setup = r.setup;
          meta = r.meta;
          break;
        case 'input':
          inputs.push(r.value);
          break;
        case 'decision':
          decisions.push(r.value);
          break;
        case 'tick':
          ticks.push(r.value);
          break;
        case 'shadow':
          shadows.push(r.value);
          break;
        case 'end':
          end = r.value;
          break;
        case 'segment':
          break;
      }
    }
    if (read.truncated) {
      truncated = true;
      problem = read.problem;
      break;
    }
  }
  return {
    matchId: parsed.matchId,
    setup,
    meta,
    inputs,
    decisions,
    ticks,
    shadows,
    end,
    files,
    bytes,
    truncated,
    problem,
  };
}

/**
 * Lists the matches in a decision-log folder, newest first.
 * @param dir - the folder (`--decision-log`)
 */
export async function listMatchLogs(dir: string): Promise<MatchListing[]> {
  const segments = await listSegments(dir);
  const out: MatchListing[] = [];
  for (const [matchId, segs] of segments) {
    const files = segs.map((s) => join(dir, segmentFileName(matchId, s)));
    let size = 0;
    let modified = 0;
    for (const f of files) {
      try {
        const s = await stat(f);
        size += s.size;
        modified = Math.max(modified, s.mtimeMs);
      } catch {
        // deleted meanwhile
      }
    }
    out.push({ matchId, files, bytes: size, fromStart: segs[0] === 0, modified: new Date(modified) });
  }
  return out.sort((a, b) => b.modified.getTime() - a.modified.getTime() || b.matchId.localeCompare(a.matchId));
}

/** Segment numbers per match id, ascending. */
async function listSegments(dir: string): Promise<Map<string, number[]>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${dir}: cannot list (${(err as Error).message})`, {
      cause: err,
      details: { dir },
    });
  }
  const byMatch = new Map<string, number[]>();
  for (const n of names) {
    const p = parseSegmentFileName(n);
    if (!p) continue;
    let list = byMatch.get(p.matchId);
    if (!list) byMatch.set(p.matchId, (list = []));
    list.push(p.segment);
  }
  for (const list of byMatch.values()) list.sort((a, b) => a - b);
  return byMatch;
}
