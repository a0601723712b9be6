/**
 * What the demo tells a player, without a browser: feedback events from two
 * states, the one-line reasons under quest suggestions, and the sentences
 * errors become.
 */
import { expect } from '../helpers/chai.js';
import { diffFeedback, type FeedbackSnapshot } from '../../demo-game/src/feedback.js';
import { joinFailureMessage, playerMessage } from '../../demo-game/src/player-messages.js';
import { reasonFor, type CatalogueEntry } from '../../demo-game/src/quest-reasons.js';

type Me = NonNullable<FeedbackSnapshot['me']>;

function snap(
  tick: number,
  me: Partial<Me>,
  guards: [string, { x: number; y: number; health: number; alive: boolean }][] = [],
  collectibles: [string, { x: number; y: number; active: boolean }][] = [],
): FeedbackSnapshot {
  return {
    tick,
    me: { x: 100, y: 100, health: 100, alive: true, score: 0, questsDone: 0, quest: '', ...me },
    guards: new Map(guards),
    collectibles: new Map(collectibles),
  };
}

const title = (id: string) => `Title of ${id}`;
const reward = (id: string) => (id === 'q-1' ? 3 : 0);

describe('demo feedback', () => {
  it('tells a hit on a nearby guard, a guard downed for a point, and damage taken', () => {
    const before = snap(1, {}, [
      ['g0', { x: 120, y: 100, health: 50, alive: true }],
      ['g1', { x: 130, y: 100, health: 10, alive: true }],
      ['g2', { x: 700, y: 500, health: 80, alive: true }],
    ]);
    const after = snap(2, { health: 85, score: 1 }, [
      ['g0', { x: 120, y: 100, health: 40, alive: true }],
      ['g1', { x: 130, y: 100, health: 0, alive: false }],
      ['g2', { x: 700, y: 500, health: 70, alive: true }], // hit by someone else, far away
    ]);
    const kinds = diffFeedback(before, after, title, reward).map((e) => e.kind);
    expect(kinds).to.deep.equal(['hurt', 'hit', 'kill']);
  });

  it('tells a pickup next to the player, and not one across the arena', () => {
    const before = snap(
      1,
      {},
      [],
      [
        ['c0', { x: 105, y: 100, active: true }],
        ['c1', { x: 600, y: 400, active: true }],
      ],
    );
    const after = snap(
      2,
      { score: 1 },
      [],
      [
        ['c0', { x: 105, y: 100, active: false }],
        ['c1', { x: 600, y: 400, active: false }],
      ],
    );
    const events = diffFeedback(before, after, title, reward);
    expect(events).to.deep.equal([{ kind: 'pickup', x: 105, y: 100, score: 1 }]);
  });

  it('tells a finished quest with its title and reward, without counting its reward as a pickup', () => {
    const before = snap(1, { quest: 'q-1' }, [], [['c0', { x: 105, y: 100, active: true }]]);
    const after = snap(2, { quest: '', questsDone: 1, score: 3 }, [], [['c0', { x: 105, y: 100, active: false }]]);
    const events = diffFeedback(before, after, title, reward);
    expect(events).to.deep.equal([{ kind: 'quest', x: 100, y: 100, questId: 'q-1', title: 'Title of q-1', reward: 3 }]);
  });

  it('tells being downed and coming back', () => {
    expect(
      diffFeedback(snap(1, {}), snap(2, { alive: false, health: 0 }), title, reward).map((e) => e.kind),
    ).to.deep.equal(['down']);
    expect(diffFeedback(snap(2, { alive: false }), snap(3, { x: 40, y: 40 }), title, reward)).to.deep.equal([
      { kind: 'respawn', x: 40, y: 40 },
    ]);
  });

  it('tells nothing for the same tick again or a state from before', () => {
    const a = snap(5, {});
    expect(diffFeedback(a, snap(5, { health: 10 }), title, reward)).to.deep.equal([]);
    expect(diffFeedback(a, snap(4, { health: 10 }), title, reward)).to.deep.equal([]);
  });
});

describe('demo quest reasons', () => {
  const catalogue = new Map<string, CatalogueEntry>(
    [
      { id: 'q-forest-1', title: 'Wolves at the Mill', tags: ['combat', 'forest'], popularity: 1313 },
      { id: 'q-forest-2', title: 'The Lost Herbalist', tags: ['escort', 'exploration', 'forest'], popularity: 622 },
      { id: 'q-city-1', title: 'Market Day', tags: ['social', 'city'], popularity: 900 },
      { id: 'q-city-2', title: 'Rooftop Chase', tags: ['stealth', 'city'], popularity: 40 },
      { id: 'q-sea-1', title: 'Tide Caves', tags: ['exploration', 'sea'], popularity: 30 },
    ].map((e) => [e.id, e]),
  );

  it('names the finished quest a suggestion shares tags with', () => {
    const r = reasonFor(
      'q-forest-2',
      catalogue,
      { taken: ['q-city-1', 'q-forest-1'], finished: ['q-forest-1'] },
      false,
    );
    expect(r).to.equal('Because you finished Wolves at the Mill (forest)');
  });

  it('prefers the quest sharing the most tags, and says "took" for one not finished', () => {
    const r = reasonFor('q-sea-1', catalogue, { taken: ['q-forest-1', 'q-forest-2'], finished: ['q-forest-1'] }, false);
    expect(r).to.equal('Because you took The Lost Herbalist (exploration)');
  });

  it('falls back on what players do together, then on popularity, and never shows a score', () => {
    expect(reasonFor('q-city-2', catalogue, { taken: ['q-sea-1'], finished: [] }, false)).to.equal(
      'Players who did Tide Caves often did this one too',
    );
    expect(reasonFor('q-forest-1', catalogue, { taken: [], finished: [] }, true)).to.equal(
      'One of the most played quests',
    );
    for (const id of catalogue.keys())
      expect(reasonFor(id, catalogue, { taken: [], finished: [] }, true)).to.not.match(/\d/);
  });
});

describe('demo error sentences', () => {
  it('turns server codes, room errors and join failures into sentences without the code', () => {
    const cases: [string | number, string][] = [
      ['rate_limited', 'rate_limited'],
      ['ws_524', '524'],
      ['ws_4003', '4003'],
      [524, '524'],
      ['ws_undefined', 'undefined'],
      ['something_new', 'something_new'],
    ];
    for (const [code, raw] of cases) {
      const s = playerMessage(code, 'a technical message');
      expect(s, String(code)).to.match(/^[A-Z].+\.$/);
      expect(s, String(code)).to.not.contain(raw);
      expect(s, String(code)).to.not.contain('technical');
    }
    expect(joinFailureMessage(new Error('no answer within 8000 ms'))).to.equal('The server did not answer in time.');
    expect(joinFailureMessage(Object.assign(new Error('Unsupported method'), { code: 404 }))).to.equal(
      'The server at this address has no arena to join.',
    );
    expect(joinFailureMessage(new TypeError('Failed to fetch'))).to.equal('The server cannot be reached.');
  });
});
