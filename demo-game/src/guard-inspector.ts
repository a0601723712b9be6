/**
 * "See the AI think": the panel section for the guard the player clicked —
 * what it does, whom it targets and whether it sees them, the probability the
 * model gave each action this tick (bars that sum to 100 %), what the scripted
 * expert guard would have done on the same observation, and who decided.
 *
 * @module
 */
import type { ArenaView, GuardView } from './arena-source.js';
import { el } from './dom.js';
import { ACTION_COLORS, css } from './palette.js';
import type { InspectorInfo } from './test-hook.js';

export type { InspectorInfo };

/** The arena's actions, in the order probabilities come in (`server/sim/guard-actions.ts`). */
export const INSPECTOR_ACTIONS = ['idle', 'patrol', 'chase', 'attack', 'flee', 'flank'] as const;

/** Reads what the inspector shows for a guard. */
export function inspect(guard: GuardView, names: ReadonlyMap<string, string>): InspectorInfo {
  const t = guard;
  const p = t.probabilities;
  let probabilities: Record<string, number> | null = null;
  if (p && p.length === INSPECTOR_ACTIONS.length) {
    probabilities = {};
    INSPECTOR_ACTIONS.forEach((a, i) => (probabilities![a] = Number(p[i])));
  }
  return {
    id: guard.id,
    alive: guard.alive,
    action: guard.action,
    model: guard.model,
    servedBy: t.servedBy ?? '',
    decisionTick: t.decisionTick ?? 0,
    target: t.target ? (names.get(t.target) ?? t.target) : '',
    sees: t.sees === true,
    probabilities,
    expert: t.expert ?? '',
  };
}

/** See the module documentation. */
export class GuardInspector {
  private readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly lines: HTMLElement;
  private readonly bars: HTMLElement;
  private readonly rows = new Map<string, { fill: HTMLElement; value: HTMLElement; row: HTMLElement }>();
  /** What is shown now (null: no guard selected). */
  shown: InspectorInfo | null = null;

  /** @param parent - where the section goes (hidden until a guard is selected) */
  constructor(
    parent: HTMLElement,
    private readonly onClose: () => void,
  ) {
    this.root = el('section', { id: 'inspector', class: 'inspector', 'aria-live': 'polite' });
    const head = el('div', { class: 'inspector-head' });
    this.title = el('h2', {}, 'Guard');
    const close = el('button', { type: 'button', class: 'small', id: 'inspector-close' }, 'Close');
    close.addEventListener('click', () => this.onClose());
    head.append(this.title, close);
    this.lines = el('dl', { class: 'hud' });
    this.bars = el('div', { class: 'bars' });
    for (const a of INSPECTOR_ACTIONS) {
      const row = el('div', { class: 'bar-row', 'data-action': a });
      const fill = el('div', { class: 'fill', style: `background:${css(ACTION_COLORS[a] ?? 0xffffff)}` });
      const track = el('div', { class: 'track' });
      track.append(fill);
      const value = el('span', { class: 'value', 'data-prob': a }, '–');
      row.append(el('span', { class: 'name' }, a), track, value);
      this.bars.append(row);
      this.rows.set(a, { fill, value, row });
    }
    this.root.append(
      head,
      el('p', { class: 'hint' }, 'What the guard sees and how likely the model made each action this tick.'),
      this.lines,
      this.bars,
    );
    this.root.hidden = true;
    parent.append(this.root);
  }

  /** Shows a guard (null hides the section). */
  render(guardId: string | null, view: ArenaView | null, names: ReadonlyMap<string, string>): void {
    const g = guardId && view ? view.guards.get(guardId) : undefined;
    if (!g) {
      this.root.hidden = true;
      this.shown = null;
      return;
    }
    const info = inspect(g, names);
    this.shown = info;
    this.root.hidden = false;
    this.title.textContent = `Guard ${info.id}`;
    const line = (k: string, v: string) => [el('dt', {}, k), el('dd', { 'data-inspect': k }, v)];
    const decided =
      info.servedBy === 'scripted'
        ? 'the scripted guard (toggle below)'
        : `${info.model || '–'}${info.servedBy ? ` (${info.servedBy})` : ''}`;
    this.lines.replaceChildren(
      ...line('doing', info.alive ? info.action : 'down'),
      ...line('target', info.target ? `${info.target} (${info.sees ? 'in sight' : 'remembered'})` : 'nobody in sight'),
      ...line('decided by', decided),
      ...line(
        'scripted guard',
        info.expert
          ? `${info.expert}${info.expert === info.action ? ' (agrees)' : ` (the model chose ${info.action})`}`
          : '–',
      ),
    );
    for (const a of INSPECTOR_ACTIONS) {
      const r = this.rows.get(a)!;
      const p = info.probabilities?.[a];
      r.fill.style.width = p === undefined ? '0' : `${(p * 100).toFixed(1)}%`;
      r.value.textContent = p === undefined ? '–' : `${(p * 100).toFixed(1)} %`;
      r.row.classList.toggle('chosen', a === info.action);
      r.row.classList.toggle('expert', a === info.expert);
    }
    this.bars.hidden = info.probabilities === null;
  }
}
