/**
 * The online arena: the server's `arena` room over @colyseus/sdk, on the page's
 * own origin. State comes from the room's schema; recommendations and errors
 * come as messages to this player only (see `server/rooms/arena-messages.ts`).
 *
 * @module
 */
import { Client, type Room } from '@colyseus/sdk';
import {
  SourceEmitter,
  type ArenaSource,
  type ArenaView,
  type PlayerIntent,
  type Recommendations,
  type SourceEvents,
} from './arena-source.js';
import type { ConnectionStatus } from './test-hook.js';
import { ArenaMessage, RoomName } from '../../sdk/public.js';

/** The arena room's name and message types, shared with the server (`sdk/protocol.ts`, exported by `playmind/sdk`). */
export const ARENA_ROOM = RoomName.ARENA;
export const Msg = ArenaMessage;

/** The `recommendations` message. */
interface RecommendationsMessage {
  player: string;
  items: { id: string; title: string; kind: string; score: number }[];
  model: string;
  coldStart: boolean;
}

/** The `error` message. */
interface ErrorMessage {
  code: string;
  message: string;
}

/**
 * The server's WebSocket endpoint for a page location: same host and port,
 * `wss:` under `https:`.
 *
 * @example endpointFor(new URL('http://localhost:2567/')) // 'ws://localhost:2567'
 */
export function endpointFor(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

/** See the module documentation. */
export class OnlineSource implements ArenaSource {
  readonly mode = 'online';
  private readonly events = new SourceEmitter();
  private current: ConnectionStatus = 'connecting';
  private lastIntent: PlayerIntent = { dx: 0, dy: 0, attack: false };

  private constructor(private readonly room: Room<unknown, ArenaView>) {
    room.onStateChange((state) => this.events.emit('state', state));
    room.onMessage(Msg.RECOMMENDATIONS, (m: RecommendationsMessage) => {
      const recs: Recommendations = {
        items: m.items.map((i) => ({ id: i.id, title: i.title, kind: i.kind, score: i.score })),
        model: m.model,
        coldStart: m.coldStart,
      };
      this.events.emit('recommendations', recs);
    });
    room.onMessage(Msg.ERROR, (m: ErrorMessage) =>
      this.events.emit('error', { code: String(m.code), message: String(m.message) }),
    );
    room.onDrop(() => this.setStatus('reconnecting'));
    room.onReconnect(() => {
      this.setStatus('connected');
      // The server forgets nothing on a reconnection, but re-send what we want to be sure.
      this.room.send(Msg.INPUT, this.lastIntent);
    });
    room.onLeave(() => this.setStatus('disconnected'));
    room.onError((code, message) =>
      this.events.emit('error', { code: `ws_${code}`, message: message ?? 'room error' }),
    );
  }

  /**
   * Joins (or creates) the arena room.
   *
   * @param endpoint - the server, e.g. `ws://localhost:2567`
   * @param name - the name other players see (the server checks it)
   * @throws Error when the server cannot be reached or refuses the join
   */
  static async join(endpoint: string, name?: string): Promise<OnlineSource> {
    const room = await new Client(endpoint).joinOrCreate<ArenaView>(ARENA_ROOM, name ? { name } : {});
    const source = new OnlineSource(room);
    source.setStatus('connected');
    // Pushes follow the join; ask once more now that the handler is in place.
    source.requestRecommendations();
    return source;
  }

  get playerId(): string {
    return this.room.sessionId;
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  view(): ArenaView | null {
    // Until the first full state arrives, the root exists but its collections do not.
    const s = this.room.state as Partial<ArenaView> | undefined;
    return s?.players && s.guards && s.collectibles && s.quests && s.obstacles ? (s as ArenaView) : null;
  }

  inference(): null {
    return null;
  }

  setIntent(intent: PlayerIntent): void {
    this.lastIntent = { ...intent };
    if (this.current === 'connected') this.room.send(Msg.INPUT, this.lastIntent);
  }

  takeQuest(questId: string): void {
    if (this.current === 'connected') this.room.send(Msg.TAKE_QUEST, { questId });
  }

  abandonQuest(): void {
    if (this.current === 'connected') this.room.send(Msg.ABANDON_QUEST, {});
  }

  setGuardMode(mode: 'model' | 'scripted'): void {
    if (this.current === 'connected') this.room.send(Msg.GUARD_MODE, { mode });
  }

  requestRecommendations(): void {
    if (this.current === 'connected') this.room.send(Msg.RECOMMENDATIONS, {});
  }

  /**
   * Measures the round trip to the server (Colyseus's `room.ping()`).
   *
   * @returns milliseconds, or null when the connection is not open or no answer comes within `timeoutMs`
   */
  ping(timeoutMs = 2000): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.current !== 'connected') return resolve(null);
      const timer = setTimeout(() => resolve(null), timeoutMs);
      this.room.ping((ms) => {
        clearTimeout(timer);
        resolve(ms);
      });
    });
  }

  on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): void {
    this.events.on(event, listener);
  }

  async close(): Promise<void> {
    await this.room.leave(true);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.current) return;
    this.current = status;
    this.events.emit('status', status);
  }
}
