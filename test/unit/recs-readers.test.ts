import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { ErrorCode, PlaymindError } from '../../sdk/protocol.js';
import { parseInteractions, readInteractions, readTitles, splitCsvLine } from '../../sdk/recs/trainer.js';

chai.use(chaiAsPromised);
const { expect } = chai;

/** The error `fn` throws; fails the test unless it is a PlaymindError. */
function errorOf(fn: () => unknown): PlaymindError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a PlaymindError').to.be.instanceOf(PlaymindError);
  return caught as PlaymindError;
}

describe('recs: interaction log readers', () => {
  it('reads a tsv log by column name and reports the columns it ignored', () => {
    const r = parseInteractions('User_ID\tGame_ID\tHours\n1\t10\t2.5\n1\t11\t0\n2\t10\t7\n', {
      file: 'plays.tsv',
      userCol: 'User_ID',
      itemCol: 'Game_ID',
    });
    expect(r.format).to.equal('tsv');
    expect(r.interactions).to.deep.equal([
      { user: '1', item: '10', weight: 1 },
      { user: '1', item: '11', weight: 1 },
      { user: '2', item: '10', weight: 1 },
    ]);
    expect(r.ignoredColumns).to.deep.equal(['Hours']);
    expect(r.lines).to.equal(3);
  });

  it('reads weights from the weight column', () => {
    const r = parseInteractions('u\ti\tw\na\tx\t2.5\nb\ty\t0\n', {
      file: 'l.tsv',
      userCol: 'u',
      itemCol: 'i',
      weightCol: 'w',
    });
    expect(r.interactions.map((x) => x.weight)).to.deep.equal([2.5, 0]);
    expect(r.ignoredColumns).to.deep.equal([]);
  });

  it('reads csv with quoted fields, escaped quotes and CRLF line ends', () => {
    const r = parseInteractions('player,quest,note\r\n"p, 1",q-forest-1,"said ""hi"""\r\np2,"q-city-2",\r\n', {
      file: 'log.csv',
      userCol: 'player',
      itemCol: 'quest',
    });
    expect(r.format).to.equal('csv');
    expect(r.interactions).to.deep.equal([
      { user: 'p, 1', item: 'q-forest-1', weight: 1 },
      { user: 'p2', item: 'q-city-2', weight: 1 },
    ]);
    expect(splitCsvLine('a,"b,c",')).to.deep.equal(['a', 'b,c', '']);
  });

  it('reads jsonl, with numeric ids, and lists every key it saw', () => {
    const r = parseInteractions(
      '{"player":"p-1","quest":"q-forest-1","outcome":"taken","time":"2025-03-01T00:00:00Z"}\n\n{"player":2,"quest":"q-coast-1","outcome":"finished","time":"x"}\n',
      { file: 'telemetry.jsonl', userCol: 'player', itemCol: 'quest' },
    );
    expect(r.format).to.equal('jsonl');
    expect(r.interactions).to.deep.equal([
      { user: 'p-1', item: 'q-forest-1', weight: 1 },
      { user: '2', item: 'q-coast-1', weight: 1 },
    ]);
    expect(r.ignoredColumns).to.deep.equal(['outcome', 'time']);
  });

  it('rejects a tsv line with a wrong number of fields, naming file, line and reason', () => {
    const err = errorOf(() =>
      parseInteractions('u\ti\na\tx\nb\ty\textra\n', { file: 'bad.tsv', userCol: 'u', itemCol: 'i' }),
    );
    expect(err.code).to.equal(ErrorCode.INVALID_ARGUMENT);
    expect(err.message).to.equal('bad.tsv:3: expected 2 fields but found 3');
    expect(err.details).to.include({ file: 'bad.tsv', line: 3 });
  });

  it('rejects a non-numeric or negative weight with its line number', () => {
    expect(
      errorOf(() =>
        parseInteractions('u,i,w\na,x,1\nb,y,lots\n', { file: 'w.csv', userCol: 'u', itemCol: 'i', weightCol: 'w' }),
      ).message,
    ).to.equal('w.csv:3: weight column "w" is not a number ("lots")');
    expect(
      errorOf(() => parseInteractions('u,i,w\na,x,-2\n', { file: 'w.csv', userCol: 'u', itemCol: 'i', weightCol: 'w' }))
        .message,
    ).to.match(/^w\.csv:2: weight column "w" is negative/);
  });

  it('rejects an empty user id, bad csv quoting, bad JSON and a missing JSON key', () => {
    expect(
      errorOf(() => parseInteractions('u\ti\n\tx\n', { file: 'e.tsv', userCol: 'u', itemCol: 'i' })).message,
    ).to.match(/^e\.tsv:2: user column "u" is empty/);
    expect(
      errorOf(() => parseInteractions('u,i\n"a,x\n', { file: 'q.csv', userCol: 'u', itemCol: 'i' })).message,
    ).to.equal('q.csv:2: unterminated quoted field');
    expect(
      errorOf(() =>
        parseInteractions('{"u":"a","i":"x"}\n{"u":"b",\n', { file: 't.jsonl', userCol: 'u', itemCol: 'i' }),
      ).message,
    ).to.match(/^t\.jsonl:2: not valid JSON/);
    expect(
      errorOf(() => parseInteractions('{"u":"a","i":"x"}\n[1,2]\n', { file: 't.jsonl', userCol: 'u', itemCol: 'i' }))
        .message,
    ).to.equal('t.jsonl:2: expected a JSON object');
    expect(
      errorOf(() => parseInteractions('{"u":"a","item":"x"}\n', { file: 't.jsonl', userCol: 'u', itemCol: 'i' }))
        .message,
    ).to.equal('t.jsonl:1: missing key "i" (the object has "u", "item")');
  });

  it('reports unknown columns together with the columns the header has', () => {
    const err = errorOf(() =>
      parseInteractions('User_ID\tGame_ID\n1\t2\n', {
        file: 'p.tsv',
        userCol: 'user',
        itemCol: 'Game_ID',
        weightCol: 'hours',
      }),
    );
    expect(err.message).to.equal('p.tsv:1: unknown columns "user", "hours"; the header has "User_ID", "Game_ID"');
    expect(err.details.unknownColumns).to.deep.equal(['user', 'hours']);
  });

  describe('from disk', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'recs-readers-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads each format from a file, inferring it from the extension', async () => {
      await writeFile(join(dir, 'a.tsv'), 'u\ti\na\tx\n');
      await writeFile(join(dir, 'a.csv'), 'u,i\r\na,x\r\n');
      await writeFile(join(dir, 'a.jsonl'), '{"u":"a","i":"x"}\n');
      for (const f of ['a.tsv', 'a.csv', 'a.jsonl']) {
        const r = await readInteractions(join(dir, f), { userCol: 'u', itemCol: 'i' });
        expect(r.interactions, f).to.deep.equal([{ user: 'a', item: 'x', weight: 1 }]);
      }
      const forced = await readInteractions(join(dir, 'a.tsv'), { userCol: 'u', itemCol: 'i', format: 'tsv' });
      expect(forced.format).to.equal('tsv');
    });

    it('rejects a malformed file with its path and line number', async () => {
      const file = join(dir, 'bad.jsonl');
      await writeFile(file, '{"u":"a","i":"x"}\n{"u":"b","i":"y"}\nnot json\n');
      await expect(readInteractions(file, { userCol: 'u', itemCol: 'i' })).to.be.rejectedWith(
        PlaymindError,
        `${file}:3: not valid JSON`,
      );
    });

    it('rejects a missing file and an unknown extension with a clear message', async () => {
      await expect(readInteractions(join(dir, 'none.tsv'), { userCol: 'u', itemCol: 'i' })).to.be.rejectedWith(
        /cannot read the interactions file/,
      );
      await writeFile(join(dir, 'log.txt'), 'u\ti\n');
      await expect(readInteractions(join(dir, 'log.txt'), { userCol: 'u', itemCol: 'i' })).to.be.rejectedWith(
        /cannot tell the format/,
      );
    });

    it('reads titles by item id', async () => {
      await writeFile(join(dir, 'items.tsv'), 'Game_ID\tGame Name\n1\tThe Elder Scrolls V Skyrim\n2\tFallout 4\n');
      const titles = await readTitles(join(dir, 'items.tsv'), { itemCol: 'Game_ID', titleCol: 'Game Name' });
      expect([...titles]).to.deep.equal([
        ['1', 'The Elder Scrolls V Skyrim'],
        ['2', 'Fallout 4'],
      ]);
    });
  });
});
