/**
 * Readers for interaction logs of any origin: tab-separated, comma-separated
 * (RFC 4180 quoting, one record per line) or JSON Lines. The caller names the
 * user, item and optional weight columns; a line that cannot be read is rejected
 * with a {@link PlaymindError} naming the file, the line number and the reason.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCode, PlaymindError } from '../protocol.js';

/** Formats an interaction log may have. */
export type LogFormat = 'tsv' | 'csv' | 'jsonl';
export const LOG_FORMATS: readonly LogFormat[] = ['tsv', 'csv', 'jsonl'];

/** One (user, item, weight) observation. */
export interface Interaction {
  user: string;
  item: string;
  /** 1 when no weight column is used. */
  weight: number;
}

/** Which columns to read. */
export interface ColumnSelection {
  userCol: string;
  itemCol: string;
  /** A numeric column (e.g. hours played); omitted: every interaction weighs 1. */
  weightCol?: string;
}

/** Options of {@link readInteractions} and {@link parseInteractions}. */
export interface ReadOptions extends ColumnSelection {
  /** @default inferred from the file extension (.tsv .tab .dat → tsv, .csv → csv, .jsonl .ndjson .json → jsonl) */
  format?: LogFormat;
  /** Called every few thousand lines with the bytes read so far (for progress). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** What a reader returns. */
export interface ReadResult {
  interactions: Interaction[];
  format: LogFormat;
  /** The columns the file has (header row, or every key seen in JSONL). */
  columns: string[];
  /** Columns present but not used (reported to the user, not an error). */
  ignoredColumns: string[];
  /** Number of data lines read (blank lines excluded). */
  lines: number;
}

/**
 * Guesses the format from a file name.
 * @returns the format, or undefined when the extension says nothing
 */
export function formatFromPath(file: string): LogFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.tsv' || ext === '.tab' || ext === '.dat') return 'tsv';
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  return undefined;
}

/** Builds the error for one bad line. */
function lineError(file: string, line: number, reason: string): PlaymindError {
  return new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${file}:${line}: ${reason}`, {
    details: { file, line, reason },
  });
}

/** Splits one CSV record (RFC 4180 quoting). Throws a reason string on bad quoting. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < line.length && line[i] !== ',')
        throw new Error(`unexpected character after a quoted field at column ${i + 1}`);
      out.push(value);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      const value = line.slice(i, end);
      if (value.includes('"')) throw new Error(`stray quote in field ${out.length + 1}`);
      out.push(value);
      i = end;
    }
    if (i >= line.length) return out;
    i++; // the comma
    if (i === line.length) {
      out.push('');
      return out;
    }
  }
}

/** Turns a field into an id: strings are trimmed; must not be empty. */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const s = value.trim();
    return s.length > 0 ? s : undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Parses a weight: a finite number ≥ 0. Returns a reason string when it is not one. */
function weightOf(value: unknown, col: string): number | string {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return `weight column "${col}" is not a number (${JSON.stringify(value)})`;
  if (n < 0) return `weight column "${col}" is negative (${n})`;
  return n;
}

/** A line-by-line parser; feed lines with their 1-based numbers, then call finish(). */
class LogParser {
  readonly interactions: Interaction[] = [];
  private header: string[] | undefined;
  private idx = { user: -1, item: -1, weight: -1 };
  private readonly jsonKeys = new Set<string>();
  lines = 0;

  constructor(
    private readonly file: string,
    private readonly format: LogFormat,
    private readonly sel: ColumnSelection,
    private readonly roles = { user: 'user', item: 'item' },
  ) {}

  private fields(line: string, n: number): string[] {
    if (this.format === 'tsv') return line.split('\t');
    try {
      return splitCsvLine(line);
    } catch (err) {
      throw lineError(this.file, n, (err as Error).message);
    }
  }

  feed(raw: string, n: number): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (n === 1 && line.charCodeAt(0) === 0xfeff) return this.feed(line.slice(1), n);
    if (line.trim() === '') return;
    if (this.format === 'jsonl') return this.feedJson(line, n);
    const fields = this.fields(line, n);
    if (!this.header) {
      this.header = fields.map((f) => f.trim());
      const find = (col: string | undefined) => (col === undefined ? -1 : this.header!.indexOf(col));
      this.idx = { user: find(this.sel.userCol), item: find(this.sel.itemCol), weight: find(this.sel.weightCol) };
      const missing = [this.sel.userCol, this.sel.itemCol, this.sel.weightCol].filter(
        (c): c is string => c !== undefined && !this.header!.includes(c),
      );
      if (missing.length > 0) {
        throw new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `${this.file}:${n}: unknown column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}; the header has ${this.header.map((c) => `"${c}"`).join(', ')}`,
          { details: { file: this.file, line: n, unknownColumns: missing, columns: this.header } },
        );
      }
      return;
    }
    this.lines++;
    if (fields.length !== this.header.length) {
      throw lineError(this.file, n, `expected ${this.header.length} fields but found ${fields.length}`);
    }
    this.add(
      fields[this.idx.user],
      fields[this.idx.item],
      this.idx.weight >= 0 ? fields[this.idx.weight] : undefined,
      n,
    );
  }

  private feedJson(line: string, n: number): void {
    this.lines++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw lineError(this.file, n, `not valid JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw lineError(this.file, n, 'expected a JSON object');
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) this.jsonKeys.add(k);
    for (const col of [this.sel.userCol, this.sel.itemCol, this.sel.weightCol]) {
      if (col !== undefined && !(col in obj)) {
        throw lineError(
          this.file,
          n,
          `missing key "${col}" (the object has ${
            Object.keys(obj)
              .map((k) => `"${k}"`)
              .join(', ') || 'no keys'
          })`,
        );
      }
    }
    this.add(
      obj[this.sel.userCol],
      obj[this.sel.itemCol],
      this.sel.weightCol === undefined ? undefined : obj[this.sel.weightCol],
      n,
    );
  }

  private add(userRaw: unknown, itemRaw: unknown, weightRaw: unknown, n: number): void {
    const user = idOf(userRaw);
    if (user === undefined)
      throw lineError(this.file, n, `${this.roles.user} column "${this.sel.userCol}" is empty or not a string/number`);
    const item = idOf(itemRaw);
    if (item === undefined)
      throw lineError(this.file, n, `${this.roles.item} column "${this.sel.itemCol}" is empty or not a string/number`);
    let weight = 1;
    if (this.sel.weightCol !== undefined) {
      const w = weightOf(weightRaw, this.sel.weightCol);
      if (typeof w === 'string') throw lineError(this.file, n, w);
      weight = w;
    }
    this.interactions.push({ user, item, weight });
  }

  finish(): ReadResult {
    const columns = this.format === 'jsonl' ? [...this.jsonKeys] : (this.header ?? []);
    if (this.format !== 'jsonl' && !this.header) {
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${this.file}: the file is empty (a header row is needed)`, {
        details: { file: this.file },
      });
    }
    if (this.interactions.length === 0) {
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${this.file}: no interactions`, {
        details: { file: this.file },
      });
    }
    const used = new Set([this.sel.userCol, this.sel.itemCol, this.sel.weightCol]);
    return {
      interactions: this.interactions,
      format: this.format,
      columns,
      ignoredColumns: columns.filter((c) => !used.has(c)),
      lines: this.lines,
    };
  }
}

function checkSelection(sel: ColumnSelection, format: LogFormat | undefined, file: string): LogFormat {
  if (typeof sel.userCol !== 'string' || sel.userCol === '')
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'userCol' must be a non-empty string`);
  if (typeof sel.itemCol !== 'string' || sel.itemCol === '')
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'itemCol' must be a non-empty string`);
  if (sel.userCol === sel.itemCol)
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `'userCol' and 'itemCol' are the same column ("${sel.userCol}")`,
    );
  const f = format ?? formatFromPath(file);
  if (f === undefined) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${file}: cannot tell the format from the extension; pass format tsv, csv or jsonl`,
      { details: { file } },
    );
  }
  if (!LOG_FORMATS.includes(f))
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'format' must be tsv, csv or jsonl (got "${String(f)}")`);
  return f;
}

/**
 * Parses an interaction log held in memory.
 * @param text - the whole file
 * @param options - columns and format; `file` names the source in errors
 * @throws PlaymindError `invalid_argument` naming the file, the line and the reason
 * @example parseInteractions('u\ti\nA\tx\n', { file: 'log.tsv', userCol: 'u', itemCol: 'i' })
 */
export function parseInteractions(text: string, options: ReadOptions & { file?: string }): ReadResult {
  const file = options.file ?? '(memory)';
  const parser = new LogParser(
    file,
    checkSelection(options, options.format ?? formatFromPath(file) ?? 'tsv', file),
    options,
  );
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => parser.feed(line, i + 1));
  return parser.finish();
}

/**
 * Reads an interaction log from disk, line by line (files larger than memory
 * for a string are fine).
 * @param file - path of the log
 * @param options - columns and format
 * @returns the interactions and what the file's columns were
 * @throws PlaymindError `invalid_argument` naming the file, the line and the reason
 */
export async function readInteractions(file: string, options: ReadOptions): Promise<ReadResult> {
  return readLog(file, options, { user: 'user', item: 'item' });
}

async function readLog(file: string, options: ReadOptions, roles: { user: string; item: string }): Promise<ReadResult> {
  const format = checkSelection(options, options.format, file);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${file}: cannot read the interactions file (${(err as Error).message})`,
      {
        cause: err,
        details: { file },
      },
    );
  }
  const parser = new LogParser(file, format, options, roles);
  const stream = createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      parser.feed(line, n);
      if (options.onProgress && n % 20_000 === 0) options.onProgress(stream.bytesRead, size);
    }
  } finally {
    rl.close();
    stream.destroy();
  }
  options.onProgress?.(size, size);
  return parser.finish();
}

/** Options of {@link readTitles}. */
export interface TitleOptions {
  itemCol: string;
  titleCol: string;
  format?: LogFormat;
}

/**
 * Reads item titles (item id → title) from a tsv/csv/jsonl file.
 * @throws PlaymindError `invalid_argument` for unknown columns or malformed lines
 */
export async function readTitles(file: string, options: TitleOptions): Promise<Map<string, string>> {
  // A title is read as the "user" column of a reader whose "item" is the id.
  const res = await readLog(
    file,
    { format: options.format, userCol: options.titleCol, itemCol: options.itemCol },
    { user: 'title', item: 'item' },
  );
  const titles = new Map<string, string>();
  for (const r of res.interactions) titles.set(r.item, r.user);
  return titles;
}
