/**
 * The Playmind demo game: a title screen, then the server's `arena` room on
 * this page's origin — guards driven by the npc-guard model, quests
 * recommended by the quest-recs model — or, when the server cannot be reached
 * (or with `?offline=1`), the same arena in the page with the SDK's browser
 * build ({@link ArenaLink} switches between the two without a reload).
 * Renders with Phaser 4 (canvas renderer, scaled to fit), with a DOM side
 * panel, and publishes a summary on `window.__playmind` for tests.
 *
 * Offline mode's files come from the demo's own folder: `./offline-models/`
 * (a copy of the shipped models made by `build.mjs`, not the server's live
 * `/models/`) and `./ort/` (onnxruntime-web's WASM), loaded by
 * `offline-runtime.ts` through a dynamic import.
 *
 * @module
 */
import * as Phaser from 'phaser';
import { DEFAULT_ARENA_CONFIG } from '../../server/sim/index.js';
import { ArenaLink, type OfflineRuntime, type RuntimeProgress } from './arena-link.js';
import { ArenaScene } from './arena-scene.js';
import { playmindPlugin, type PlaymindPluginEntry } from '../../sdk/phaser/index.js';
import type { Brain } from '../../sdk/public.js';
import {
  questTargetOf,
  type ArenaView,
  type PlayerIntent,
  type PlayerView,
  type Recommendations,
} from './arena-source.js';
import { diffFeedback, snapshotOf, type FeedbackEvent, type FeedbackSnapshot } from './feedback.js';
import { LateDecisions, guardRouteOf } from './guard-route.js';
import { endpointFor } from './online-source.js';
import { COLORS } from './palette.js';
import { reasonFor, type CatalogueEntry } from './quest-reasons.js';
import { SidePanel } from './side-panel.js';
import { Sounds, type SoundName } from './sounds.js';
import type { PlaymindHook } from './test-hook.js';
import { showTitleScreen } from './title-screen.js';
import { GuardInspector } from './guard-inspector.js';
import { Scoreboard, roundEndText, roundOf, type RoundInfo } from './scoreboard.js';

/** Errors kept for the panel and the hook. */
const MAX_ERRORS = 20;
/** How often the round trip is measured, ms. */
const PING_EVERY_MS = 1000;
/** How long the end of a round stays in the banner, ms. */
const ROUND_END_MS = 5000;

/** Whether the page asks for offline mode (`?offline=1`, `?offline=true`, `?offline`). */
function offlineRequested(search: string): boolean {
  const v = new URLSearchParams(search).get('offline');
  return v !== null && v !== '0' && v !== 'false';
}

/** A display name for a player without one: `bot-3` → `Bot 3`, a session id → `Player AbCd`. */
function nameOf(p: PlayerView): string {
  const named = (p as PlayerView & { name?: string }).name;
  if (named) return named;
  const bot = /^bot-(\d+)$/.exec(p.id);
  if (bot) return `Bot ${bot[1]}`;
  return `Player ${p.id.slice(0, 4)}`;
}

const FEEDBACK_SOUND: Readonly<Record<FeedbackEvent['kind'], SoundName>> = {
  hit: 'hit',
  hurt: 'hurt',
  kill: 'kill',
  pickup: 'pickup',
  quest: 'quest',
  down: 'down',
  respawn: 'respawn',
};

/** Wires the link to the scene, the panel, the sounds and the test hook. */
class DemoGame {
  private recommendations: Recommendations | null = null;
  private readonly errors: { code: string; message: string }[] = [];
  private updates = 0;
  private intent: PlayerIntent = { dx: 0, dy: 0, attack: false };
  private readonly panel: SidePanel;
  private readonly scene: ArenaScene;
  private readonly sounds = new Sounds();
  private readonly late = new LateDecisions();
  private readonly feedbackCounts: Record<string, number> = {};
  private readonly history = { taken: [] as string[], finished: [] as string[] };
  private catalogue = new Map<string, CatalogueEntry>();
  private snapshot: FeedbackSnapshot | null = null;
  private ping: number | null = null;
  private playing = false;
  private downSince: number | null = null;
  private banner = '';
  private overlay: HTMLElement;
  private readonly inspector: GuardInspector;
  private readonly scoreboard: Scoreboard;
  private readonly modeButton: HTMLButtonElement;
  private selectedGuard: string | null = null;
  private round: RoundInfo | null = null;
  /** The end of the last round, shown for a while: its banner text and when it ends. */
  private roundEnd: { text: string; until: number; round: number; winner: string } | null = null;
  private roundsEnded = 0;

  constructor(
    private readonly link: ArenaLink,
    panelRoot: HTMLElement,
    gameParent: HTMLElement,
    plugin: PlaymindPluginEntry,
  ) {
    this.panel = new SidePanel(panelRoot, {
      takeQuest: (id) => this.takeQuest(id),
      abandonQuest: () => this.abandonQuest(),
    });
    this.scoreboard = new Scoreboard(this.panel.slots.round);
    this.inspector = new GuardInspector(this.panel.slots.inspector, () => {
      this.selectedGuard = null;
      this.scene.select(null);
      this.refresh();
    });
    const modeRow = document.createElement('p');
    modeRow.className = 'guard-mode';
    this.modeButton = document.createElement('button');
    this.modeButton.type = 'button';
    this.modeButton.id = 'guard-mode';
    this.modeButton.className = 'small';
    this.modeButton.addEventListener('click', () => {
      const scripted = this.link.view()?.guardMode === 'scripted';
      this.link.setGuardMode(scripted ? 'model' : 'scripted');
      this.modeButton.blur();
    });
    modeRow.append(this.modeButton);
    this.panel.slots.inspector.append(modeRow);
    this.overlay = document.createElement('div');
    this.overlay.className = 'loading-overlay';
    this.overlay.hidden = true;
    gameParent.append(this.overlay);

    this.scene = new ArenaScene(link, {
      onIntent: (intent) => {
        this.intent = intent;
        link.setIntent(intent);
        this.refresh();
      },
      onSelectGuard: (id) => {
        this.selectedGuard = id;
        this.refresh();
      },
      onToggleMute: () => {
        this.sounds.toggleMute();
        this.refresh();
      },
    });
    link.on('state', (view) => this.onState(view));
    link.on('recommendations', (recs) => {
      this.recommendations = recs;
      this.refresh();
    });
    link.on('status', () => this.refresh());
    link.on('error', (e) => this.addError(e.code, e.message));
    link.onLink('switch', (source) => {
      this.scene.resetMotion();
      this.snapshot = null;
      this.late.reset();
      this.recommendations = null;
      this.ping = null;
      this.downSince = null;
      this.selectedGuard = null;
      this.roundEnd = null;
      this.sounds.play(source.mode === 'offline' ? 'offline' : 'online');
      if (source.mode === 'online') void this.loadCatalogue(['/models/quest-recs/manifest.json']);
      this.refresh();
    });
    link.onLink('progress', (p) => this.onProgress(p));
    link.onLink('notice', () => this.refresh());

    new Phaser.Game({
      type: Phaser.CANVAS,
      parent: gameParent,
      backgroundColor: '#0b0f16',
      banner: false,
      audio: { noAudio: true },
      scale: {
        mode: Phaser.Scale.FIT,
        autoCenter: Phaser.Scale.CENTER_BOTH,
        width: DEFAULT_ARENA_CONFIG.width,
        height: DEFAULT_ARENA_CONFIG.height,
      },
      scene: [this.scene],
      plugins: { scene: [plugin] },
    });
    void this.loadCatalogue(['./offline-models/quest-recs/manifest.json']);
    setInterval(() => void this.measurePing(), PING_EVERY_MS);
    this.refresh();
  }

  /** The arena scene's brain (`this.playmind`, made on first use): offline mode decides with it. */
  async sceneBrain(): Promise<Brain> {
    await this.scene.created;
    return this.scene.playmind.ready;
  }

  /** The player pressed Play. */
  start(): void {
    this.playing = true;
    this.sounds.unlock();
    this.scene.enableInput();
    this.refresh();
  }

  addError(code: string, message: string): void {
    console.warn(`[playmind demo] ${code}: ${message}`);
    this.errors.push({ code, message });
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
    this.refresh();
  }

  private takeQuest(id: string): void {
    this.link.takeQuest(id);
    if (!this.history.taken.includes(id)) this.history.taken.push(id);
  }

  private abandonQuest(): void {
    this.link.abandonQuest();
  }

  private onProgress(p: RuntimeProgress): void {
    const waiting = this.link.source === null || this.link.source.status !== 'connected';
    const show = p.state === 'loading' && waiting && this.link.mode !== 'online';
    this.overlay.hidden = !(show || (p.state === 'loading' && this.link.source === null));
    if (!this.overlay.hidden) {
      const share = p.total > 0 ? Math.min(1, p.loaded / p.total) : 0;
      this.overlay.replaceChildren();
      const text = document.createElement('p');
      text.textContent =
        p.total > 0
          ? `Loading offline mode: ${p.label}, ${Math.round(share * 100)} % of ${(p.total / 1024 / 1024).toFixed(1)} MiB`
          : `Loading offline mode: ${p.label}…`;
      const bar = document.createElement('div');
      bar.className = 'progress';
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-valuenow', String(Math.round(share * 100)));
      const fill = document.createElement('div');
      fill.className = 'bar';
      fill.style.width = `${(share * 100).toFixed(1)}%`;
      bar.append(fill);
      this.overlay.append(text, bar);
    }
    this.refresh();
  }

  /** The quest catalogue (titles, tags) for the reasons: the demo's copy, then the server's live one once online. */
  private async loadCatalogue(urls: readonly string[]): Promise<void> {
    for (const url of urls) {
      try {
        const res = await fetch(new URL(url, document.baseURI));
        if (!res.ok) continue;
        const m = (await res.json()) as { recommender?: { catalogue?: CatalogueEntry[] } };
        const items = m.recommender?.catalogue ?? [];
        if (items.length === 0) continue;
        this.catalogue = new Map(items.map((i) => [i.id, i]));
        this.refresh();
        return;
      } catch {
        // try the next one
      }
    }
  }

  private async measurePing(): Promise<void> {
    const ms = await this.link.ping();
    if (ms === null && this.link.mode === 'online') return;
    this.ping = ms;
    if (ms !== null) this.scene.setRoundTrip(ms);
  }

  private onState(view: ArenaView): void {
    this.updates++;
    this.scene.onState(view, performance.now());
    this.late.observe(view);
    const snap = snapshotOf(view, this.link.playerId);
    if (this.snapshot && this.playing) {
      const events = diffFeedback(
        this.snapshot,
        snap,
        (id) => view.quests.get(id)?.title ?? id,
        (id) => view.quests.get(id)?.reward ?? 0,
      );
      for (const e of events) this.feedback(e);
    }
    this.snapshot = snap;
    this.updateRound(view);
    this.updateBanner(view);
    this.refresh();
  }

  private feedback(e: FeedbackEvent): void {
    this.feedbackCounts[e.kind] = (this.feedbackCounts[e.kind] ?? 0) + 1;
    this.sounds.play(FEEDBACK_SOUND[e.kind]);
    switch (e.kind) {
      case 'hit':
        this.scene.pop(`-${e.damage}`, e.x, e.y, 0xfde68a);
        break;
      case 'hurt':
        this.scene.pop(`-${e.damage}`, e.x, e.y, 0xf87171);
        break;
      case 'kill':
        this.scene.pop(`Guard down! +${e.score}`, e.x, e.y, 0x34d399, true);
        break;
      case 'pickup':
        this.scene.pop(`+${e.score} gold`, e.x, e.y, COLORS.collectible);
        break;
      case 'quest':
        this.scene.pop(`Quest complete: ${e.title} +${e.reward}`, e.x, e.y, COLORS.questTarget, true);
        if (!this.history.finished.includes(e.questId)) this.history.finished.push(e.questId);
        if (!this.history.taken.includes(e.questId)) this.history.taken.push(e.questId);
        break;
      case 'down':
        this.scene.pop('You are down', e.x, e.y, 0xf87171, true);
        break;
      case 'respawn':
        this.scene.pop('Back in the fight', e.x, e.y, 0x34d399);
        break;
    }
  }

  /** The round and the scoreboard; when a round ends, its final standings go into the banner. */
  private updateRound(view: ArenaView): void {
    const names = this.names(view);
    const next = roundOf(view, this.link.playerId, names, DEFAULT_ARENA_CONFIG.tickRate);
    const prev = this.round;
    if (prev && next && next.round === prev.round + 1) {
      const winner = view.lastRoundWinner ?? '';
      this.roundEnd = {
        text: roundEndText(prev, winner, view.lastRoundScore ?? prev.teamScore),
        until: performance.now() + ROUND_END_MS,
        round: prev.round,
        winner,
      };
      this.roundsEnded++;
      this.sounds.play(winner === 'players' ? 'quest' : 'down');
    }
    this.round = next;
  }

  private names(view: ArenaView | null): Map<string, string> {
    const names = new Map<string, string>();
    view?.players.forEach((p, id) => names.set(id, nameOf(p)));
    return names;
  }

  private updateBanner(view: ArenaView): void {
    const me = view.players.get(this.link.playerId);
    let text = '';
    if (me && !me.alive) {
      this.downSince ??= view.tick;
      const synced = (me as PlayerView & { respawnIn?: number }).respawnIn;
      const ticks =
        typeof synced === 'number' ? synced : this.downSince + DEFAULT_ARENA_CONFIG.player.respawnTicks - view.tick;
      const secs = Math.max(1, Math.ceil(ticks / DEFAULT_ARENA_CONFIG.tickRate));
      text = `You are down\nback in ${secs} s`;
    } else this.downSince = null;
    if (this.roundEnd && performance.now() < this.roundEnd.until) text = this.roundEnd.text;
    this.banner = text;
    this.scene.setBanner(text);
  }

  private worldCache: { view: ArenaView; world: NonNullable<PlaymindHook['world']> } | null = null;

  /** The arena's size and obstacles for the hook (copied once per arena). */
  private worldOf(view: ArenaView | null): PlaymindHook['world'] {
    if (!view || view.width === 0) return null;
    if (this.worldCache?.view !== view) {
      const obstacles: { x: number; y: number; w: number; h: number }[] = [];
      view.obstacles.forEach((o) => obstacles.push({ x: o.x, y: o.y, w: o.w, h: o.h }));
      this.worldCache = { view, world: { width: view.width, height: view.height, obstacles } };
    }
    return this.worldCache.world;
  }

  private me(view: ArenaView | null): PlayerView | null {
    return view?.players.get(this.link.playerId) ?? null;
  }

  private reasons(): Map<string, string> {
    const out = new Map<string, string>();
    for (const item of this.recommendations?.items ?? [])
      out.set(item.id, reasonFor(item.id, this.catalogue, this.history, this.recommendations?.coldStart ?? false));
    return out;
  }

  private refresh(): void {
    const view = this.link.view();
    const me = this.me(view);
    const inference = this.link.inference();
    const route = guardRouteOf(this.link.mode, view, inference);
    const reasons = this.reasons();
    const counts = this.late.counts(inference);
    const late = { late: counts.recentLate, of: counts.recentOf };
    const names = this.names(view);
    this.scene.setNames(names);
    if (this.selectedGuard && !view?.guards.get(this.selectedGuard)) this.selectedGuard = null;
    this.inspector.render(this.selectedGuard, view, names);
    this.scoreboard.render(this.round);
    const scripted = view?.guardMode === 'scripted';
    const modeText = scripted ? 'Guards: scripted · switch to the model' : 'Guards: model · switch to scripted';
    if (this.modeButton.textContent !== modeText) this.modeButton.textContent = modeText;
    this.modeButton.hidden = view?.guardMode === undefined;
    this.modeButton.dataset.mode = view?.guardMode ?? '';
    this.panel.render({
      mode: this.link.mode,
      status: this.link.status,
      host: location.host,
      view,
      me,
      route,
      recommendations: this.recommendations,
      reasons,
      inference,
      ping: this.link.mode === 'online' ? this.ping : null,
      tickRate: this.scene.tickRate,
      late,
      offline: this.link.progress,
      notice: this.link.notice,
      errors: this.errors,
    });
    const guards: PlaymindHook['guards'] = [];
    view?.guards.forEach((g, id) =>
      guards.push({ id, x: g.x, y: g.y, action: g.action, model: g.model, alive: g.alive }),
    );
    const players: PlaymindHook['players'] = [];
    view?.players.forEach((p, id) =>
      players.push({ id, name: names.get(id) ?? id, kind: p.kind, x: p.x, y: p.y, alive: p.alive, score: p.score }),
    );
    const questInfo = me && me.quest ? view?.quests.get(me.quest) : undefined;
    const status = this.link.status;
    const p = this.link.progress;
    window.__playmind = {
      mode: this.link.mode,
      status,
      connected: (status === 'connected' || status === 'offline') && view !== null,
      tick: view?.tick ?? 0,
      updates: this.updates,
      me: me ? { id: me.id, x: me.x, y: me.y, health: me.health, alive: me.alive, score: me.score } : null,
      guards,
      guardModel: route.model,
      recommendations: this.panel.shown.map((i) => ({ ...i })),
      recommendationsModel: this.recommendations?.model ?? '',
      activeQuest:
        me && me.quest
          ? {
              id: me.quest,
              title: questInfo?.title ?? me.quest,
              kind: questInfo?.kind ?? '',
              progress: me.questProgress,
              goal: me.questGoal,
            }
          : null,
      activeQuestTarget: questTargetOf(me),
      input: { ...this.intent },
      inference: inference ? { ...inference } : null,
      notice: this.link.notice,
      errors: this.errors.map((e) => ({ ...e })),
      screen: this.playing ? 'playing' : 'title',
      route: route.route,
      routeLabel: route.label,
      ping: this.link.mode === 'online' ? this.ping : null,
      tickRate: this.scene.tickRate,
      decisionsLate: { late: counts.late, of: counts.of },
      offline: { state: p.state, loaded: p.loaded, total: p.total },
      lostAt: this.link.lostAt,
      offlineAt: this.link.offlineAt,
      sceneBrain: this.scene.playmind?.brain ? 'ready' : 'none',
      switches: { ...this.link.switches },
      feedback: { ...this.feedbackCounts },
      sounds: { ...this.sounds.played },
      audio: this.sounds.enabled,
      prediction: this.scene.predictionCorrections,
      banner: this.banner,
      players,
      world: this.worldOf(view),
      inspector: this.inspector.shown ? { ...this.inspector.shown } : null,
      round: this.round ? { ...this.round, rows: this.round.rows.map((r) => ({ ...r })) } : null,
      lastRoundEnd: this.roundEnd
        ? { round: this.roundEnd.round, winner: this.roundEnd.winner, text: this.roundEnd.text }
        : null,
      roundsEnded: this.roundsEnded,
      guardMode: view?.guardMode ?? '',
    };
  }
}

async function boot(): Promise<void> {
  const panelRoot = document.getElementById('panel');
  const gameParent = document.getElementById('game');
  if (!panelRoot || !gameParent) throw new Error('index.html must have #panel and #game');
  const base = document.baseURI;
  const link = new ArenaLink({
    endpoint: endpointFor(location),
    offlineOnly: offlineRequested(location.search),
    loadRuntime: async (onProgress): Promise<OfflineRuntime> => {
      progress = onProgress;
      onProgress({ state: 'loading', loaded: 0, total: 0, label: 'loading the game code for offline mode' });
      // The scene's playmind/phaser plugin makes the brain on this first use (see createBrain below).
      const brain: Brain = await game.sceneBrain();
      const { offlineRuntime } = await import('./offline-runtime.js');
      return offlineRuntime(brain, paths);
    },
  });
  const paths = {
    models: new URL('./offline-models/', base).href,
    wasmPaths: new URL('./ort/', base).href,
  };
  let progress: (p: RuntimeProgress) => void = () => undefined;
  const plugin = playmindPlugin({
    scenes: ['arena'],
    create: 'first-use',
    brain: { mode: 'local', ...paths },
    createBrain: async (options) => {
      const { loadOfflineBrain } = await import('./offline-runtime.js');
      return loadOfflineBrain(options, base, (p) => progress(p));
    },
  });
  const game: DemoGame = new DemoGame(link, panelRoot, gameParent, plugin);
  // Offline mode's files download while the player reads the title screen.
  link.preload();
  showTitleScreen({
    parent: gameParent,
    onPlay: (name) => {
      link.setName(name);
      game.start();
      link.start().catch((err: unknown) => game.addError('offline_failed', String(err)));
    },
  });
}

boot().catch((err: unknown) => {
  console.error('demo failed to start', err);
});
