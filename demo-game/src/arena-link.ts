/**
 * The arena the game plays in, whatever happens to the network: the server's
 * arena room while it can be reached, the simulation in the page (offline
 * mode, the SDK's browser build) when it cannot — and back.
 *
 * - At start: joins the server (unless `?offline=1`); if that fails, plays
 *   offline and keeps trying the server.
 * - While online, it loads the offline runtime in the background (the
 *   SDK chunk, onnxruntime-web's WASM with a progress report, both models),
 *   so that a lost connection switches to offline mode at once: the game
 *   keeps running, and says so.
 * - Offline, it tries to join the server every `retryMs`; once it can, it
 *   stops the offline arena and plays online again, without a reload. If the
 *   old room comes back by itself (Colyseus's own reconnection after a short
 *   drop), it goes back to that one.
 *
 * The scene and the panel read one {@link ArenaSource}: this link, which
 * forwards to the current source and tells them when it changed.
 *
 * @module
 */
import {
  SourceEmitter,
  type ArenaSource,
  type ArenaView,
  type InferenceSummary,
  type PlayerIntent,
  type SourceEvents,
} from './arena-source.js';
import { OnlineSource } from './online-source.js';
import { joinFailureMessage } from './player-messages.js';
import type { ConnectionStatus } from './test-hook.js';

/** The offline runtime: loaded once per page, then used for every offline spell. */
export interface OfflineRuntime {
  /** Starts an offline arena (the models are loaded already). */
  play(options: { name?: string }): Promise<ArenaSource>;
}

/** Progress of the offline runtime's download. */
export interface RuntimeProgress {
  /** `idle`, `loading`, `ready` or `failed`. */
  state: 'idle' | 'loading' | 'ready' | 'failed';
  /** Bytes loaded and expected (the WASM and the models; 0 when unknown). */
  loaded: number;
  total: number;
  /** What is loading, for players. */
  label: string;
}

/** Options of {@link ArenaLink}. */
export interface ArenaLinkOptions {
  /** The server's WebSocket endpoint, e.g. `ws://localhost:2567`. */
  endpoint: string;
  /** Loads the offline runtime; called once; reports progress through `onProgress`. */
  loadRuntime: (onProgress: (p: RuntimeProgress) => void) => Promise<OfflineRuntime>;
  /** Never join the server (`?offline=1`). @default false */
  offlineOnly?: boolean;
  /** How long a join may take, ms. @default 8000 */
  joinTimeoutMs?: number;
  /** How often to try the server again while offline, ms. @default 1000 */
  retryMs?: number;
  /** How long after joining the background download starts, ms. @default 500 */
  preloadAfterMs?: number;
  /** The player's name (sent with every join; the offline arena uses it too). @default '' (the game names the player) */
  name?: string;
}

/** Events beyond the sources' own. */
export interface LinkEvents {
  /** The current source changed (online ↔ offline): the scene resets its motion state. */
  switch: (source: ArenaSource) => void;
  /** The offline runtime's download moved on. */
  progress: (p: RuntimeProgress) => void;
  /** The notice changed ('' for none). */
  notice: (notice: string) => void;
}

/** Joins the arena, or rejects after `ms` (a late join is left again). */
async function joinWithin(endpoint: string, ms: number, name: string): Promise<OnlineSource> {
  const joining = OnlineSource.join(endpoint, name || undefined);
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

/** See the module documentation. */
export class ArenaLink implements ArenaSource {
  private current: ArenaSource | null = null;
  private online: OnlineSource | null = null;
  private offline: ArenaSource | null = null;
  private readonly events = new SourceEmitter();
  private readonly linkListeners: { [E in keyof LinkEvents]: LinkEvents[E][] } = {
    switch: [],
    progress: [],
    notice: [],
  };
  private runtime: Promise<OfflineRuntime> | null = null;
  private progressState: RuntimeProgress = { state: 'idle', loaded: 0, total: 0, label: '' };
  private noticeText = '';
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private joining = false;
  private closed = false;
  private readonly options: Required<ArenaLinkOptions>;
  /** When the connection was found lost, and when the offline arena took over (page ms), for the HUD and tests. */
  lostAt: number | null = null;
  offlineAt: number | null = null;
  /** Times the game switched to offline mode after a lost connection, and back online. */
  switches = { offline: 0, online: 0 };

  constructor(options: ArenaLinkOptions) {
    this.options = {
      offlineOnly: false,
      joinTimeoutMs: 8000,
      retryMs: 1000,
      preloadAfterMs: 500,
      name: '',
      ...options,
    };
  }

  /**
   * Starts loading the offline runtime in the background (the page calls it while the title
   * screen shows, so the download and the WASM compilation do not stall the game later).
   */
  preload(): void {
    this.ensureRuntime().catch((err: unknown) => console.warn('offline mode could not load', err));
  }

  /** Starts: joins the server, or plays offline. Resolves once a source runs. */
  async start(): Promise<void> {
    if (!this.options.offlineOnly) {
      try {
        this.useOnline(await joinWithin(this.options.endpoint, this.options.joinTimeoutMs, this.options.name));
        setTimeout(() => this.preload(), this.options.preloadAfterMs);
        return;
      } catch (err) {
        this.setNotice(
          `${joinFailureMessage(err)} Playing offline: the arena and the AI run in this page. The game keeps trying the server.`,
        );
        console.warn('cannot join the arena', err);
      }
    }
    await this.goOffline();
    if (!this.options.offlineOnly) this.scheduleRetry();
  }

  get mode(): 'online' | 'offline' {
    return this.current?.mode ?? (this.options.offlineOnly ? 'offline' : 'online');
  }

  get playerId(): string {
    return this.current?.playerId ?? '';
  }

  get status(): ConnectionStatus {
    return this.current?.status ?? 'connecting';
  }

  /** The source playing now (null before the first). */
  get source(): ArenaSource | null {
    return this.current;
  }

  get notice(): string {
    return this.noticeText;
  }

  get progress(): RuntimeProgress {
    return this.progressState;
  }

  view(): ArenaView | null {
    return this.current?.view() ?? null;
  }

  inference(): InferenceSummary | null {
    return this.current?.inference() ?? null;
  }

  setIntent(intent: PlayerIntent): void {
    this.current?.setIntent(intent);
  }

  takeQuest(questId: string): void {
    this.current?.takeQuest(questId);
  }

  abandonQuest(): void {
    this.current?.abandonQuest();
  }

  setGuardMode(mode: 'model' | 'scripted'): void {
    this.current?.setGuardMode(mode);
  }

  /** Sets the player's name for the next joins (call before {@link start}). */
  setName(name: string): void {
    this.options.name = name;
  }

  requestRecommendations(): void {
    this.current?.requestRecommendations();
  }

  /** The round trip to the server, ms (null offline or without an answer). */
  async ping(): Promise<number | null> {
    const s = this.current;
    return s instanceof OnlineSource && s.status === 'connected' ? s.ping() : null;
  }

  on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): void {
    this.events.on(event, listener);
  }

  onLink<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): void {
    this.linkListeners[event].push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const sources = [this.online, this.offline].filter((s): s is NonNullable<typeof s> => s !== null);
    await Promise.all(sources.map((s) => s.close().catch(() => {})));
  }

  private emitLink<E extends keyof LinkEvents>(event: E, ...args: Parameters<LinkEvents[E]>): void {
    for (const l of this.linkListeners[event]) (l as (...a: Parameters<LinkEvents[E]>) => void)(...args);
  }

  private setNotice(text: string): void {
    if (text === this.noticeText) return;
    this.noticeText = text;
    this.emitLink('notice', text);
  }

  private setProgress(p: RuntimeProgress): void {
    this.progressState = p;
    this.emitLink('progress', p);
  }

  /** Loads the offline runtime once (a failed load may be retried). */
  private ensureRuntime(): Promise<OfflineRuntime> {
    if (!this.runtime) {
      this.setProgress({ state: 'loading', loaded: 0, total: 0, label: 'offline mode' });
      this.runtime = this.options
        .loadRuntime((p) => this.setProgress(p))
        .then(
          (r) => {
            this.setProgress({ ...this.progressState, state: 'ready', label: 'offline mode ready' });
            return r;
          },
          (err: unknown) => {
            this.runtime = null;
            this.setProgress({ state: 'failed', loaded: 0, total: 0, label: 'offline mode could not load' });
            throw err;
          },
        );
    }
    return this.runtime;
  }

  private use(source: ArenaSource): void {
    this.current = source;
    this.emitLink('switch', source);
    this.events.emit('status', source.status);
    const view = source.view();
    if (view) this.events.emit('state', view);
    source.requestRecommendations();
  }

  /** Forwards a source's events while it is the current one. */
  private forward(source: ArenaSource): void {
    source.on('state', (v) => {
      if (this.current === source) this.events.emit('state', v);
    });
    source.on('recommendations', (r) => {
      if (this.current === source) this.events.emit('recommendations', r);
    });
    source.on('error', (e) => {
      if (this.current === source) this.events.emit('error', e);
    });
  }

  private useOnline(source: OnlineSource): void {
    this.online = source;
    this.forward(source);
    source.on('status', (s) => {
      if (this.closed) return;
      if (s === 'reconnecting' || s === 'disconnected') {
        if (s === 'disconnected' && this.online === source) this.online = null;
        if (this.current === source) this.connectionLost(s === 'disconnected');
        else if (s === 'disconnected') void source.close().catch(() => {});
      } else if (s === 'connected' && this.current !== source && this.online === source) {
        // Colyseus reconnected the old room by itself.
        void this.backOnline(source);
      } else if (this.current === source) {
        this.events.emit('status', s);
      }
    });
    this.use(source);
  }

  private connectionLost(gone: boolean): void {
    // A drop, then the room's end when reconnecting fails: one loss.
    if (this.lostAt !== null) return;
    this.lostAt = performance.now();
    this.offlineAt = null;
    this.events.emit('status', gone ? 'disconnected' : 'reconnecting');
    this.setNotice('Lost the connection to the server. Switching to offline mode…');
    void this.goOffline().then(() => {
      if (this.current?.mode === 'offline') {
        this.switches.offline++;
        this.setNotice(
          'Lost the connection to the server: playing offline, the arena and the AI run in this page. The game rejoins the server when it is back.',
        );
      }
    });
    this.scheduleRetry();
  }

  private async goOffline(): Promise<void> {
    if (this.offline) return;
    let runtime: OfflineRuntime;
    try {
      runtime = await this.ensureRuntime();
    } catch (err) {
      console.error('offline mode could not start', err);
      this.events.emit('error', {
        code: 'offline_failed',
        message: `offline mode could not start: ${err instanceof Error ? err.message : String(err)}`,
      });
      return;
    }
    if (
      this.closed ||
      this.offline ||
      (this.current && this.current.mode === 'online' && this.current.status === 'connected')
    )
      return;
    const source = await runtime.play({ name: this.options.name || undefined });
    if (this.closed) {
      await source.close();
      return;
    }
    this.offline = source;
    this.forward(source);
    this.offlineAt = performance.now();
    this.use(source);
  }

  private scheduleRetry(): void {
    if (this.closed || this.options.offlineOnly) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.retry(), this.options.retryMs);
  }

  private async retry(): Promise<void> {
    if (this.closed || this.joining || this.current?.mode === 'online') return;
    this.joining = true;
    try {
      const source = await joinWithin(this.options.endpoint, this.options.joinTimeoutMs, this.options.name);
      const old = this.online;
      this.online = null;
      if (old) void old.close().catch(() => {});
      this.useOnline(source);
      await this.leaveOffline();
    } catch {
      this.scheduleRetry();
    } finally {
      this.joining = false;
    }
  }

  private async backOnline(source: OnlineSource): Promise<void> {
    this.use(source);
    await this.leaveOffline();
  }

  private async leaveOffline(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.switches.online++;
    this.lostAt = null;
    this.offlineAt = null;
    this.setNotice('Back online: rejoined the server.');
    const off = this.offline;
    this.offline = null;
    await off?.close().catch(() => {});
  }
}
