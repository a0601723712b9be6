/**
 * The DOM side panel: a HUD (connection, tick, score, health, which models
 * drive the guards and the recommendations), the active quest, the player's
 * quest recommendations (click one to take it), recent errors, and a legend.
 *
 * @module
 */
import type { ArenaView, InferenceSummary, PlayerView, Recommendations } from './arena-source.js';
import { ACTION_COLORS, COLORS, css } from './palette.js';
import type { ConnectionStatus } from './test-hook.js';

/** What the panel shows. */
export interface PanelModel {
  mode: 'online' | 'offline';
  status: ConnectionStatus;
  view: ArenaView | null;
  me: PlayerView | null;
  guardModel: string;
  recommendations: Recommendations | null;
  /** Offline: how the page computes decisions; null online (the server does). */
  inference: InferenceSummary | null;
  /** A status message shown above the HUD ('' for none), e.g. why the game went offline. */
  notice: string;
  errors: readonly { code: string; message: string }[];
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A score with about three significant digits (model scores are small, popularity counts large). */
function formatScore(score: number): string {
  return Math.abs(score) >= 100 ? String(Math.round(score)) : score.toPrecision(3);
}

const KIND_HINT: Readonly<Record<string, string>> = {
  collect: 'pick up gold items',
  defeat: 'down guards (SPACE near one)',
  visit: 'reach the quest shrine (the pulsing blue ring on the map)',
};

/** See the module documentation. */
export class SidePanel {
  private readonly hud: Record<
    'mode' | 'status' | 'tick' | 'score' | 'health' | 'guards' | 'served-by' | 'recs',
    HTMLElement
  >;
  private readonly notice: HTMLElement;
  private readonly quest: HTMLElement;
  private readonly recs: HTMLOListElement;
  private readonly errors: HTMLUListElement;
  private recsKey = '';
  private errorsShown = 0;

  /**
   * @param root - the element to fill
   * @param onTakeQuest - called with a quest id when the player clicks a recommendation
   */
  constructor(
    root: HTMLElement,
    private readonly onTakeQuest: (questId: string) => void,
  ) {
    root.replaceChildren();
    root.append(el('h1', {}, 'Playmind Arena'));
    this.notice = el('p', { id: 'notice', class: 'notice', role: 'status' });
    this.notice.hidden = true;
    root.append(this.notice);

    const hud = el('dl', { class: 'hud' });
    const row = (name: string, label: string) => {
      hud.append(el('dt', {}, label));
      const dd = el('dd', { 'data-hud': name }, '–');
      hud.append(dd);
      return dd;
    };
    this.hud = {
      mode: row('mode', 'mode'),
      status: row('status', 'status'),
      tick: row('tick', 'tick'),
      score: row('score', 'score'),
      health: row('health', 'health'),
      guards: row('guards', 'guards'),
      'served-by': row('served-by', 'served by'),
      recs: row('recs', 'quests by'),
    };
    root.append(hud);

    root.append(el('h2', {}, 'Active quest'));
    this.quest = el('div', { id: 'active-quest', class: 'quest' }, 'none — pick one below');
    root.append(this.quest);

    root.append(el('h2', {}, 'Recommended for you'));
    this.recs = el('ol', { id: 'recommendations', class: 'recs' });
    root.append(this.recs);

    root.append(el('h2', {}, 'Controls'));
    root.append(el('p', { class: 'help' }, 'WASD / arrows: move · SPACE: attack the nearest guard in range'));
    const legend = el('ul', { class: 'legend' });
    const entry = (shape: string, color: number, text: string) => {
      const li = el('li');
      li.append(
        el('span', { class: `swatch ${shape}`, style: `background:${css(color)}` }),
        document.createTextNode(text),
      );
      legend.append(li);
    };
    entry('round', COLORS.me, 'you');
    entry('round', COLORS.human, 'player');
    entry('round', COLORS.bot, 'bot');
    entry('diamond', COLORS.collectible, 'item');
    entry('round', COLORS.questTarget, 'quest target');
    root.append(legend);
    root.append(el('p', { class: 'help' }, 'Guards (squares) by the action the model chose:'));
    const actions = el('ul', { class: 'legend' });
    for (const [action, color] of Object.entries(ACTION_COLORS)) {
      const li = el('li');
      li.append(el('span', { class: 'swatch', style: `background:${css(color)}` }), document.createTextNode(action));
      actions.append(li);
    }
    root.append(actions);

    this.errors = el('ul', { id: 'errors', class: 'errors' });
    root.append(this.errors);
  }

  /** Shows the model. Cheap enough to call on every state update. */
  render(m: PanelModel): void {
    if (this.notice.textContent !== m.notice) {
      this.notice.textContent = m.notice;
      this.notice.hidden = m.notice === '';
    }
    this.hud.mode.textContent =
      m.mode === 'offline' ? 'offline (simulation and models in this page)' : 'online (the server runs the arena)';
    this.hud.status.textContent = m.status;
    this.hud.status.className = `status-${m.status}`;
    this.hud.tick.textContent = m.view ? String(m.view.tick) : '–';
    this.hud.score.textContent = m.me ? `${m.me.score} (${m.me.questsDone} quests done)` : '–';
    this.hud.health.textContent = m.me ? (m.me.alive ? String(Math.round(m.me.health)) : 'down, respawning…') : '–';
    this.hud.guards.textContent = m.guardModel || 'waiting for a decision';
    this.hud['served-by'].textContent = m.inference
      ? `${m.inference.guardsServedBy || '–'} · ${m.inference.backend} · ${m.inference.deadlineMisses} late`
      : 'server';
    this.hud.recs.textContent = m.recommendations
      ? `${m.recommendations.model}${m.recommendations.coldStart ? ' (cold start)' : ''}`
      : '–';
    this.renderQuest(m);
    this.renderRecommendations(m);
    this.renderErrors(m.errors);
  }

  private renderQuest(m: PanelModel): void {
    const id = m.me?.quest ?? '';
    if (!m.me || id === '') {
      this.quest.textContent = 'none — pick one below';
      this.quest.dataset.questId = '';
      return;
    }
    const info = m.view?.quests.get(id);
    const kind = info?.kind ?? '';
    const text = `${info?.title ?? id} — ${kind}: ${m.me.questProgress}/${m.me.questGoal}`;
    if (this.quest.dataset.questId !== id || this.quest.firstChild?.textContent !== text) {
      this.quest.replaceChildren(
        el('strong', {}, text),
        el('div', { class: 'hint' }, `${KIND_HINT[kind] ?? ''}${info ? ` · reward ${info.reward}` : ''}`),
      );
      this.quest.dataset.questId = id;
    }
  }

  private renderRecommendations(m: PanelModel): void {
    const items = m.recommendations?.items ?? [];
    const active = m.me?.quest ?? '';
    const key = JSON.stringify([items.map((i) => i.id), active]);
    if (key === this.recsKey) return;
    this.recsKey = key;
    this.recs.replaceChildren();
    if (items.length === 0) {
      this.recs.append(el('li', { class: 'empty' }, 'waiting for recommendations…'));
      return;
    }
    for (const item of items) {
      const info = m.view?.quests.get(item.id);
      const button = el('button', { type: 'button', 'data-quest-id': item.id });
      button.append(
        el('span', { class: 'title' }, item.title),
        el(
          'span',
          { class: 'meta' },
          `${item.kind}${info ? ` ×${info.goal} · +${info.reward}` : ''} · ${formatScore(item.score)}`,
        ),
      );
      if (item.id === active) button.classList.add('active');
      button.addEventListener('click', () => {
        this.onTakeQuest(item.id);
        // Give the keys back to the game (SPACE must not press the button again).
        button.blur();
      });
      const li = el('li');
      li.append(button);
      this.recs.append(li);
    }
  }

  private renderErrors(errors: PanelModel['errors']): void {
    if (this.errorsShown === errors.length) return;
    this.errorsShown = errors.length;
    this.errors.replaceChildren(...errors.slice(-4).map((e) => el('li', {}, `${e.code}: ${e.message}`)));
  }
}
