/**
 * The Playmind demo game: joins the server's `arena` room on this page's
 * origin and plays it — guards driven by the npc-guard model, quests
 * recommended by the quest-recs model. Renders with Phaser 4 (canvas
 * renderer), with a DOM side panel for the HUD and the quests, and publishes a
 * summary on `window.__playmind` for tests.
 *
 * @module
 */
import * as Phaser from 'phaser';
import { ArenaScene } from './arena-scene.js';
import { questTargetOf, type ArenaSource, type ArenaView, type PlayerIntent, type PlayerView, type Recommendations } from './arena-source.js';
import { OnlineSource, endpointFor } from './online-source.js';
import { SidePanel } from './side-panel.js';
import type { ConnectionStatus, PlaymindHook } from './test-hook.js';

/** Errors kept for the panel and the hook. */
const MAX_ERRORS = 20;

/** The most common `model` among the guards ('' before any decision). */
function guardModelOf(view: ArenaView): string {
  const counts = new Map<string, number>();
  view.guards.forEach((g) => {
    if (g.model && g.model !== 'initial') counts.set(g.model, (counts.get(g.model) ?? 0) + 1);
  });
  let best = '';
  let n = 0;
  for (const [model, c] of counts) if (c > n) [best, n] = [model, c];
  return best;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Wires a source to the scene, the panel and the test hook. */
class DemoGame {
  private recommendations: Recommendations | null = null;
  private readonly errors: { code: string; message: string }[] = [];
  private updates = 0;
  private intent: PlayerIntent = { dx: 0, dy: 0, attack: false };
  private readonly panel: SidePanel;

  constructor(
    private readonly source: ArenaSource,
    panelRoot: HTMLElement,
    gameParent: HTMLElement,
  ) {
    this.panel = new SidePanel(panelRoot, (questId) => source.takeQuest(questId));
    source.on('state', () => {
      this.updates++;
      this.refresh();
    });
    source.on('recommendations', (recs) => {
      this.recommendations = recs;
      this.refresh();
    });
    source.on('status', () => this.refresh());
    source.on('error', (e) => this.addError(e.code, e.message));

    const scene = new ArenaScene(source, (intent) => {
      this.intent = intent;
      source.setIntent(intent);
      this.refresh();
    });
    new Phaser.Game({
      type: Phaser.CANVAS,
      parent: gameParent,
      width: 800,
      height: 600,
      backgroundColor: '#0b0f16',
      banner: false,
      audio: { noAudio: true },
      scene: [scene],
    });
    this.refresh();
  }

  addError(code: string, message: string): void {
    this.errors.push({ code, message });
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
    this.refresh();
  }

  private me(view: ArenaView | null): PlayerView | null {
    return view?.players.get(this.source.playerId) ?? null;
  }

  private refresh(): void {
    const view = this.source.view();
    const me = this.me(view);
    const guardModel = view ? guardModelOf(view) : '';
    this.panel.render({ mode: this.source.mode, status: this.source.status, view, me, guardModel, recommendations: this.recommendations, errors: this.errors });
    publishHook(this.hook(view, me, guardModel));
  }

  private hook(view: ArenaView | null, me: PlayerView | null, guardModel: string): PlaymindHook {
    const guards: PlaymindHook['guards'] = [];
    view?.guards.forEach((g, id) => guards.push({ id, x: g.x, y: g.y, action: g.action, model: g.model, alive: g.alive }));
    const questInfo = me && me.quest ? view?.quests.get(me.quest) : undefined;
    return {
      mode: this.source.mode,
      status: this.source.status,
      connected: this.source.status === 'connected' || this.source.status === 'offline',
      tick: view?.tick ?? 0,
      updates: this.updates,
      me: me ? { id: me.id, x: me.x, y: me.y, health: me.health, alive: me.alive, score: me.score } : null,
      guards,
      guardModel,
      recommendations: this.recommendations?.items.map((i) => ({ ...i })) ?? [],
      recommendationsModel: this.recommendations?.model ?? '',
      activeQuest: me && me.quest ? { id: me.quest, title: questInfo?.title ?? me.quest, kind: questInfo?.kind ?? '', progress: me.questProgress, goal: me.questGoal } : null,
      activeQuestTarget: questTargetOf(me),
      input: { ...this.intent },
      errors: this.errors.map((e) => ({ ...e })),
    };
  }
}

function publishHook(hook: PlaymindHook): void {
  window.__playmind = hook;
}

function emptyHook(status: ConnectionStatus, errors: PlaymindHook['errors'] = []): PlaymindHook {
  return {
    mode: 'online',
    status,
    connected: false,
    tick: 0,
    updates: 0,
    me: null,
    guards: [],
    guardModel: '',
    recommendations: [],
    recommendationsModel: '',
    activeQuest: null,
    activeQuestTarget: null,
    input: { dx: 0, dy: 0, attack: false },
    errors,
  };
}

async function boot(): Promise<void> {
  const panelRoot = document.getElementById('panel');
  const gameParent = document.getElementById('game');
  if (!panelRoot || !gameParent) throw new Error('index.html must have #panel and #game');
  publishHook(emptyHook('connecting'));
  panelRoot.textContent = `Joining the arena at ${location.host}…`;
  let source: ArenaSource;
  try {
    source = await OnlineSource.join(endpointFor(location));
  } catch (err) {
    const message = `cannot join the arena at ${endpointFor(location)}: ${describeError(err)}`;
    publishHook(emptyHook('disconnected', [{ code: 'unreachable', message }]));
    panelRoot.replaceChildren();
    const p = document.createElement('p');
    p.className = 'fatal';
    p.textContent = `${message}. Is the server running (npm start)? Reload to retry.`;
    panelRoot.append(p);
    return;
  }
  new DemoGame(source, panelRoot, gameParent);
}

boot().catch((err: unknown) => {
  console.error('demo failed to start', err);
});
