/**
 * The Playmind demo game: joins the server's `arena` room on this page's
 * origin and plays it — guards driven by the npc-guard model, quests
 * recommended by the quest-recs model. Renders with Phaser 4 (canvas
 * renderer), with a DOM side panel for the HUD and the quests, and publishes a
 * summary on `window.__playmind` for tests.
 *
 * Offline mode (`?offline=1`, or when the arena cannot be joined at start-up):
 * the simulation runs in the page and the SDK's browser build serves the models
 * (`offline-source.ts`, loaded by dynamic import: the SDK and onnxruntime-web
 * are only fetched then). Its files come from the demo's own folder:
 * `./offline-models/` (a copy of the shipped models made by `build.mjs`, not
 * the server's live `/models/`) and `./ort/` (onnxruntime-web's WASM).
 *
 * @module
 */
import * as Phaser from 'phaser';
import { ArenaScene } from './arena-scene.js';
import {
  questTargetOf,
  type ArenaSource,
  type ArenaView,
  type InferenceSummary,
  type PlayerIntent,
  type PlayerView,
  type Recommendations,
} from './arena-source.js';
import { OnlineSource, endpointFor } from './online-source.js';
import { SidePanel } from './side-panel.js';
import type { ConnectionStatus, PlaymindHook } from './test-hook.js';

/** Errors kept for the panel and the hook. */
const MAX_ERRORS = 20;
/** How long joining the arena may take before the game goes offline, ms. */
const JOIN_TIMEOUT_MS = 8000;
/** Where offline mode finds the models and onnxruntime-web's files (copied by `build.mjs`). */
const OFFLINE_MODELS = './offline-models/';
const OFFLINE_WASM = './ort/';

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
    private readonly notice = '',
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
    const inference = this.source.inference();
    this.panel.render({
      mode: this.source.mode,
      status: this.source.status,
      view,
      me,
      guardModel,
      recommendations: this.recommendations,
      inference,
      notice: this.notice,
      errors: this.errors,
    });
    publishHook(this.hook(view, me, guardModel, inference));
  }

  private hook(
    view: ArenaView | null,
    me: PlayerView | null,
    guardModel: string,
    inference: InferenceSummary | null,
  ): PlaymindHook {
    const guards: PlaymindHook['guards'] = [];
    view?.guards.forEach((g, id) =>
      guards.push({ id, x: g.x, y: g.y, action: g.action, model: g.model, alive: g.alive }),
    );
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
      notice: this.notice,
      errors: this.errors.map((e) => ({ ...e })),
    };
  }
}

function publishHook(hook: PlaymindHook): void {
  window.__playmind = hook;
}

function emptyHook(
  mode: PlaymindHook['mode'],
  status: ConnectionStatus,
  notice: string,
  errors: PlaymindHook['errors'] = [],
): PlaymindHook {
  return {
    mode,
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
    inference: null,
    notice,
    errors,
  };
}

/** Whether the page asks for offline mode (`?offline=1`, `?offline=true`, `?offline`). */
function offlineRequested(search: string): boolean {
  const v = new URLSearchParams(search).get('offline');
  return v !== null && v !== '0' && v !== 'false';
}

/** Joins the arena, or rejects after `ms` (a late join is left again). */
async function joinWithin(endpoint: string, ms: number): Promise<ArenaSource> {
  const joining = OnlineSource.join(endpoint);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([joining, timeout]);
  } catch (err) {
    joining.then((late) => late.close()).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts offline mode: loads the SDK chunk, then the models. */
async function startOffline(): Promise<ArenaSource> {
  const { OfflineSource } = await import('./offline-source.js');
  const base = document.baseURI;
  return OfflineSource.start({
    models: new URL(OFFLINE_MODELS, base).href,
    wasmPaths: new URL(OFFLINE_WASM, base).href,
  });
}

function fatal(panelRoot: HTMLElement, message: string): void {
  panelRoot.replaceChildren();
  const p = document.createElement('p');
  p.className = 'fatal';
  p.textContent = message;
  panelRoot.append(p);
}

async function boot(): Promise<void> {
  const panelRoot = document.getElementById('panel');
  const gameParent = document.getElementById('game');
  if (!panelRoot || !gameParent) throw new Error('index.html must have #panel and #game');
  let source: ArenaSource | null = null;
  let notice = '';
  if (!offlineRequested(location.search)) {
    publishHook(emptyHook('online', 'connecting', ''));
    panelRoot.textContent = `Joining the arena at ${location.host}…`;
    try {
      source = await joinWithin(endpointFor(location), JOIN_TIMEOUT_MS);
    } catch (err) {
      notice = `Cannot join the arena at ${endpointFor(location)} (${describeError(err)}): playing offline — the simulation and the models run in this page.`;
      console.warn(notice);
    }
  }
  if (!source) {
    publishHook(emptyHook('offline', 'connecting', notice));
    panelRoot.textContent = `${notice ? `${notice} ` : ''}Loading the models…`;
    try {
      source = await startOffline();
    } catch (err) {
      const message = `cannot start offline mode: ${describeError(err)}`;
      publishHook(emptyHook('offline', 'disconnected', notice, [{ code: 'offline_failed', message }]));
      fatal(panelRoot, `${notice ? `${notice} ` : ''}${message}. Reload to retry.`);
      return;
    }
  }
  new DemoGame(source, panelRoot, gameParent, notice);
}

boot().catch((err: unknown) => {
  console.error('demo failed to start', err);
});
