/**
 * The DOM side panel: the connection and the AI as they really are (where the
 * guards' decisions come from, model versions, ping, tick rate, decisions
 * late, offline mode's download), the player's score and health, the active
 * quest (with Abandon), quests recommended for the player with a one-line
 * reason (the list holds still while the pointer is over it), the guard
 * inspector, errors as sentences, and the controls.
 *
 * @module
 */
import { el } from './dom.js';
import type { ArenaView, InferenceSummary, PlayerView, Recommendations } from './arena-source.js';
import type { RuntimeProgress } from './arena-link.js';
import type { GuardRouteInfo } from './guard-route.js';
import { ACTION_COLORS, COLORS, css } from './palette.js';
import { playerMessage } from './player-messages.js';
import type { ConnectionStatus } from './test-hook.js';

/** What the panel shows. */
export interface PanelModel {
  mode: 'online' | 'offline';
  status: ConnectionStatus;
  /** The server's address (online), for the connection line. */
  host: string;
  view: ArenaView | null;
  me: PlayerView | null;
  route: GuardRouteInfo;
  recommendations: Recommendations | null;
  /** A one-line reason per recommended quest id. */
  reasons: ReadonlyMap<string, string>;
  /** Offline: how the page computes decisions; null online (the server does). */
  inference: InferenceSummary | null;
  /** The round trip to the server, ms (null offline or before the first answer). */
  ping: number | null;
  /** Ticks per second, as measured. */
  tickRate: number;
  /** Ticks whose guard decision came late, recently and of how many. */
  late: { late: number; of: number };
  /** The offline runtime's download. */
  offline: RuntimeProgress;
  /** A status message shown above the HUD ('' for none), e.g. why the game went offline. */
  notice: string;
  errors: readonly { code: string; message: string }[];
}

/** What the panel's buttons do. */
export interface PanelActions {
  takeQuest(questId: string): void;
  abandonQuest(): void;
}

const KIND_HINT: Readonly<Record<string, string>> = {
  collect: 'pick up gold items',
  defeat: 'down guards (SPACE near one)',
  visit: 'reach the shrine (the pulsing blue ring)',
};

const HUD_ROWS = [
  ['mode', 'playing'],
  ['status', 'connection'],
  ['ping', 'ping'],
  ['tick-rate', 'tick rate'],
  ['route', 'guards decided by'],
  ['guards', 'guard model'],
  ['late', 'decisions late'],
  ['recs', 'quests by'],
  ['offline-ready', 'offline mode'],
  ['score', 'score'],
  ['health', 'health'],
] as const;
type HudRow = (typeof HUD_ROWS)[number][0];

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** See the module documentation. */
export class SidePanel {
  private readonly hud = {} as Record<HudRow, HTMLElement>;
  private readonly notice: HTMLElement;
  private readonly quest: HTMLElement;
  private readonly questTitle: HTMLElement;
  private readonly questHint: HTMLElement;
  private readonly abandon: HTMLButtonElement;
  private readonly recs: HTMLOListElement;
  private readonly recsNote: HTMLElement;
  private readonly errors: HTMLUListElement;
  private readonly progress: HTMLElement;
  private readonly progressBar: HTMLElement;
  /** Extra sections (scoreboard, inspector) mounted by others, in order. */
  readonly slots: { round: HTMLElement; inspector: HTMLElement };
  private recsKey = '';
  /** The suggestions on screen now (they lag the latest while the pointer holds the list), with their reasons. */
  shown: { id: string; title: string; kind: string; score: number; reason: string }[] = [];
  private errorsShown = -1;
  private pending: PanelModel | null = null;

  /**
   * @param root - the element to fill
   * @param actions - what the quest buttons do
   */
  constructor(
    root: HTMLElement,
    private readonly actions: PanelActions,
  ) {
    root.replaceChildren();
    root.append(el('h1', {}, 'Playmind Arena'));
    this.notice = el('p', { id: 'notice', class: 'notice', role: 'status' });
    this.notice.hidden = true;
    root.append(this.notice);

    this.slots = { round: el('div', { id: 'round' }), inspector: el('div', { id: 'inspector-slot' }) };
    root.append(this.slots.round);

    const hud = el('dl', { class: 'hud' });
    for (const [name, label] of HUD_ROWS) {
      hud.append(el('dt', {}, label));
      const dd = el('dd', { 'data-hud': name }, '–');
      hud.append(dd);
      this.hud[name] = dd;
    }
    root.append(hud);
    this.progress = el('div', { class: 'progress', id: 'offline-progress', role: 'progressbar' });
    this.progressBar = el('div', { class: 'bar' });
    this.progress.append(this.progressBar);
    this.progress.hidden = true;
    root.append(this.progress);

    root.append(this.slots.inspector);

    root.append(el('h2', {}, 'Active quest'));
    this.quest = el('div', { id: 'active-quest', class: 'quest' });
    this.questTitle = el('strong', {}, 'none — pick one below');
    this.questHint = el('div', { class: 'hint' });
    this.abandon = el('button', { type: 'button', id: 'abandon-quest', class: 'small' }, 'Abandon');
    this.abandon.hidden = true;
    this.abandon.addEventListener('click', () => {
      this.actions.abandonQuest();
      this.abandon.blur();
    });
    this.quest.append(this.questTitle, this.questHint, this.abandon);
    root.append(this.quest);

    root.append(el('h2', {}, 'Suggested for you'));
    this.recs = el('ol', { id: 'recommendations', class: 'recs' });
    this.recsNote = el('p', { class: 'hint', id: 'recs-note' });
    this.recsNote.hidden = true;
    // Hold the list still under the pointer: new suggestions wait until it leaves.
    this.recs.addEventListener('pointerleave', () => {
      this.recsNote.hidden = true;
      if (this.pending) this.renderRecommendations(this.pending);
    });
    root.append(this.recs, this.recsNote);

    root.append(el('h2', {}, 'Controls'));
    root.append(
      el('p', { class: 'help' }, 'WASD / arrows: move · SPACE: attack · click a guard: see the AI think · M: sound'),
    );
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
    entry('diamond', COLORS.collectible, 'gold');
    entry('round', COLORS.questTarget, 'quest target');
    root.append(legend);
    root.append(el('p', { class: 'help' }, 'Guards (squares), coloured by what they do:'));
    const legendActions = el('ul', { class: 'legend' });
    for (const [action, color] of Object.entries(ACTION_COLORS)) {
      const li = el('li');
      li.append(el('span', { class: 'swatch', style: `background:${css(color)}` }), document.createTextNode(action));
      legendActions.append(li);
    }
    root.append(legendActions);

    this.errors = el('ul', { id: 'errors', class: 'errors', 'aria-live': 'polite' });
    root.append(this.errors);
  }

  /** Shows the model. Cheap enough to call on every state update. */
  render(m: PanelModel): void {
    if (this.notice.textContent !== m.notice) {
      this.notice.textContent = m.notice;
      this.notice.hidden = m.notice === '';
    }
    const set = (row: HudRow, text: string) => {
      if (this.hud[row].textContent !== text) this.hud[row].textContent = text;
    };
    set(
      'mode',
      m.mode === 'offline' ? 'offline: the arena and the AI run in this page' : `online: server at ${m.host}`,
    );
    set('status', m.status);
    this.hud.status.className = `status-${m.status}`;
    set('ping', m.ping === null ? (m.mode === 'offline' ? 'none (offline)' : '–') : `${Math.round(m.ping)} ms`);
    set('tick-rate', m.view ? `${m.tickRate.toFixed(1)} /s` : '–');
    set('route', m.route.label);
    this.hud.route.dataset.route = m.route.route;
    set('guards', m.route.model || 'waiting for a decision');
    set(
      'late',
      m.late.of > 0 ? `${m.late.late} of ${m.late.of} ticks (${((100 * m.late.late) / m.late.of).toFixed(1)} %)` : '0',
    );
    set(
      'recs',
      m.recommendations ? `${m.recommendations.model}${m.recommendations.coldStart ? ' (popular quests)' : ''}` : '–',
    );
    this.renderOffline(m);
    set('score', m.me ? `${m.me.score} (${m.me.questsDone} quests done)` : '–');
    set('health', m.me ? (m.me.alive ? String(Math.round(m.me.health)) : 'down') : '–');
    this.renderQuest(m);
    if (this.recs.matches(':hover') && this.recs.childElementCount > 0) {
      this.pending = m;
      if (this.keyOf(m) !== this.recsKey) this.recsNote.hidden = false;
      this.recsNote.textContent = 'New suggestions appear when the pointer leaves the list.';
    } else this.renderRecommendations(m);
    this.renderErrors(m.errors);
  }

  private renderOffline(m: PanelModel): void {
    const p = m.offline;
    const row = this.hud['offline-ready'];
    const share = p.total > 0 ? Math.min(1, p.loaded / p.total) : 0;
    let text: string;
    if (m.mode === 'offline' && p.state === 'ready') text = 'playing';
    else if (p.state === 'ready') text = 'ready: the game keeps running if the server goes away';
    else if (p.state === 'loading')
      text = p.total > 0 ? `${p.label}: ${Math.round(share * 100)} % of ${mib(p.total)}` : `${p.label}…`;
    else if (p.state === 'failed') text = 'could not load; without the server the game stops';
    else text = 'not loaded yet';
    if (row.textContent !== text) row.textContent = text;
    row.dataset.state = p.state;
    this.progress.hidden = p.state !== 'loading';
    this.progress.setAttribute('aria-valuenow', String(Math.round(share * 100)));
    this.progressBar.style.width = `${(share * 100).toFixed(1)}%`;
  }

  private renderQuest(m: PanelModel): void {
    const id = m.me?.quest ?? '';
    this.abandon.hidden = id === '';
    if (!m.me || id === '') {
      if (this.quest.dataset.questId !== '') {
        this.questTitle.textContent = 'none — pick one below';
        this.questHint.textContent = '';
        this.quest.dataset.questId = '';
      }
      return;
    }
    const info = m.view?.quests.get(id);
    const kind = info?.kind ?? '';
    const text = `${info?.title ?? id} — ${m.me.questProgress}/${m.me.questGoal}`;
    if (this.questTitle.textContent !== text) this.questTitle.textContent = text;
    const hint = `${KIND_HINT[kind] ?? ''}${info ? ` · reward ${info.reward}` : ''}`;
    if (this.questHint.textContent !== hint) this.questHint.textContent = hint;
    this.quest.dataset.questId = id;
  }

  private keyOf(m: PanelModel): string {
    const items = m.recommendations?.items ?? [];
    return JSON.stringify([items.map((i) => i.id), m.me?.quest ?? '', items.map((i) => m.reasons.get(i.id) ?? '')]);
  }

  private renderRecommendations(m: PanelModel): void {
    this.pending = null;
    const items = m.recommendations?.items ?? [];
    const active = m.me?.quest ?? '';
    const key = this.keyOf(m);
    if (key === this.recsKey) return;
    this.recsKey = key;
    this.shown = items.map((i) => ({ ...i, reason: m.reasons.get(i.id) ?? '' }));
    this.recs.replaceChildren();
    if (items.length === 0) {
      this.recs.append(el('li', { class: 'empty' }, 'waiting for suggestions…'));
      return;
    }
    for (const item of items) {
      const info = m.view?.quests.get(item.id);
      const button = el('button', { type: 'button', 'data-quest-id': item.id });
      const head = el('span', { class: 'head' });
      head.append(
        el('span', { class: 'title' }, item.title),
        el('span', { class: 'meta' }, `${item.kind}${info ? ` ×${info.goal} · +${info.reward}` : ''}`),
      );
      button.append(head, el('span', { class: 'reason' }, m.reasons.get(item.id) ?? ''));
      if (item.id === active) {
        button.classList.add('active');
        button.setAttribute('aria-pressed', 'true');
      }
      button.addEventListener('click', () => {
        this.actions.takeQuest(item.id);
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
    const seen = new Set<string>();
    const lines: string[] = [];
    for (let i = errors.length - 1; i >= 0 && lines.length < 3; i--) {
      const s = playerMessage(errors[i]!.code, errors[i]!.message);
      if (!seen.has(s)) {
        seen.add(s);
        lines.push(s);
      }
    }
    this.errors.replaceChildren(...lines.map((s) => el('li', {}, s)));
  }
}
