/**
 * The round and the scoreboard: which round it is, the time left, the team's
 * goal (the players together must reach the arena's `roundGoal` points before
 * the clock runs out, or the guards win), and every player and bot by name and
 * score, the own row highlighted. When a round ends, the final standings of
 * that round stay in the banner for a few seconds.
 *
 * @module
 */
import type { ArenaView, PlayerView } from './arena-source.js';
import { el } from './dom.js';
import type { RoundInfo, ScoreRow } from './test-hook.js';

export type { RoundInfo, ScoreRow };

/** The round and the standings of a view (null when the arena has no rounds). */
export function roundOf(
  view: ArenaView,
  playerId: string,
  names: ReadonlyMap<string, string>,
  tickRate: number,
): RoundInfo | null {
  const r = view;
  if (typeof r.round !== 'number' || r.round < 1) return null;
  const rows: ScoreRow[] = [];
  view.players.forEach((p: PlayerView, id) =>
    rows.push({ id, name: names.get(id) ?? id, kind: p.kind, score: p.score, mine: id === playerId }),
  );
  rows.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return {
    round: r.round,
    secondsLeft: Math.max(0, Math.ceil((r.roundTicksLeft ?? 0) / Math.max(1, tickRate))),
    goal: r.roundGoal ?? 0,
    teamScore: r.teamScore ?? rows.reduce((n, row) => n + row.score, 0),
    rows,
  };
}

/** The end-of-round banner for a round that just ended. */
export function roundEndText(ended: RoundInfo, winner: string, score: number): string {
  const best = ended.rows[0];
  const head =
    winner === 'players'
      ? `Round ${ended.round} won: the players scored ${score} of ${ended.goal}!`
      : `Round ${ended.round} over: the guards held (${score} of ${ended.goal} points)`;
  return best ? `${head}\nBest: ${best.mine ? 'you' : best.name} with ${best.score}` : head;
}

function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** See the module documentation. */
export class Scoreboard {
  private readonly head: HTMLElement;
  private readonly goal: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly list: HTMLOListElement;
  private key = '';

  constructor(parent: HTMLElement) {
    const root = el('section', { id: 'scoreboard', class: 'scoreboard' });
    this.head = el('div', { class: 'round-head', 'data-round': '' });
    this.goal = el('div', { class: 'hint' });
    const progress = el('div', { class: 'progress team' });
    this.bar = el('div', { class: 'bar' });
    progress.append(this.bar);
    this.list = el('ol', { class: 'scores' });
    root.append(this.head, this.goal, progress, this.list);
    parent.append(root);
  }

  render(info: RoundInfo | null): void {
    const root = this.head.parentElement!;
    root.hidden = info === null;
    if (!info) return;
    const head = `Round ${info.round} · ${clock(info.secondsLeft)} left`;
    if (this.head.textContent !== head) this.head.textContent = head;
    const goal =
      info.goal > 0
        ? `Team goal: ${info.teamScore} of ${info.goal} points before the clock runs out, or the guards win`
        : '';
    if (this.goal.textContent !== goal) this.goal.textContent = goal;
    this.bar.style.width = info.goal > 0 ? `${Math.min(100, (100 * info.teamScore) / info.goal).toFixed(1)}%` : '0';
    const key = JSON.stringify(info.rows);
    if (key === this.key) return;
    this.key = key;
    this.list.replaceChildren(
      ...info.rows.map((r) => {
        const li = el('li', { 'data-player': r.id, class: r.mine ? 'mine' : r.kind });
        li.append(el('span', { class: 'name' }, r.mine ? `${r.name} (you)` : r.name), el('span', {}, String(r.score)));
        return li;
      }),
    );
  }
}
