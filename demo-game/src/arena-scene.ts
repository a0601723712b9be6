/**
 * The Phaser scene: draws the arena top-down with simple shapes (obstacles,
 * gold, guards coloured by action with the action as a label, players with
 * the own one highlighted, health bars, names, the target of the own
 * player's `visit` quest) and turns WASD / arrows / SPACE into the player's
 * intent.
 *
 * Motion: the own player is predicted and everyone else interpolated
 * ({@link Motion}), so movement is smooth at any frame rate whatever the
 * network does. A guard under the pointer is outlined; a click selects it
 * (its sight range and target are drawn; the panel's inspector shows why it
 * acts). Feedback pops up as floating text; a big banner carries the respawn
 * countdown and the end of a round.
 *
 * For tests, `window.__playmindRecord = n` makes the scene record where it
 * drew every player in the next `n` frames into `window.__playmindFrames`.
 *
 * @module
 */
import * as Phaser from 'phaser';
import type { PlaymindPlugin } from '../../sdk/phaser/index.js';
import { questTargetOf, type ArenaSource, type ArenaView, type GuardView, type PlayerIntent } from './arena-source.js';
import { Motion } from './motion.js';
import { ACTION_COLORS, COLORS, UNKNOWN_ACTION_COLOR, css } from './palette.js';
import type { RecordedFrame } from './test-hook.js';

/** Sizes from the simulation's defaults (`server/sim/config.ts`). */
const PLAYER_RADIUS = 10;
const GUARD_RADIUS = 11;
const COLLECTIBLE_RADIUS = 8;
const ATTACK_RANGE = 40;
const SIGHT_RANGE = 220;
const MAX_HEALTH = 100;
/** A `visit` quest finishes within this distance of its target (`server/sim/arena.ts`: player radius + 14). */
const QUEST_REACH = PLAYER_RADIUS + 14;
/** The quest target's outer ring pulses out this far beyond the reach ring, once per period. */
const PULSE_SPREAD = 22;
const PULSE_PERIOD_MS = 1200;
/** The hint towards the target: dash and gap lengths, arrowhead size and its distance from the player. */
const HINT_DASH = 10;
const HINT_GAP = 7;
const ARROW_SIZE = 9;
const ARROW_OFFSET = PLAYER_RADIUS + 16;
/** A click this close to a guard's centre (arena units) selects it. */
const PICK_RADIUS = 22;
/** Label key of the quest target. */
const QUEST_TARGET_LABEL = 'quest-target';
/** Floating texts alive at once, and how long each lives, ms. */
const MAX_POPS = 12;
const POP_MS = 1100;

type Keys = Record<'up' | 'down' | 'left' | 'right' | 'w' | 'a' | 's' | 'd' | 'space', Phaser.Input.Keyboard.Key>;

/** What the scene tells the game. */
export interface SceneCallbacks {
  onIntent(intent: PlayerIntent): void;
  /** A guard was clicked (null: the click hit no guard). */
  onSelectGuard(id: string | null): void;
  /** `M` was pressed. */
  onToggleMute(): void;
}

/** See the module documentation. */
export class ArenaScene extends Phaser.Scene {
  /** The scene's brain (`playmind/phaser`): made on first use, for offline mode, and closed with the scene. */
  declare playmind: PlaymindPlugin;
  /** Resolves when the scene has been created (its plugins are set up by then). */
  readonly created: Promise<void>;
  private markCreated!: () => void;
  private graphics!: Phaser.GameObjects.Graphics;
  private keys: Keys | null = null;
  private readonly labels = new Map<string, Phaser.GameObjects.Text>();
  private readonly pops: { text: Phaser.GameObjects.Text; born: number; x: number; y: number }[] = [];
  private banner!: Phaser.GameObjects.Text;
  private waiting!: Phaser.GameObjects.Text;
  private intent: PlayerIntent = { dx: 0, dy: 0, attack: false };
  private motion: Motion;
  private playerId: string;
  private hovered: string | null = null;
  private selected: string | null = null;
  private bannerText = '';
  private names = new Map<string, string>();
  private readonly at = { x: 0, y: 0 };
  /** Scene time of the current frame, ms (drives the quest target's pulse). */
  private now = 0;
  private enabled = false;

  constructor(
    private readonly source: ArenaSource,
    private readonly callbacks: SceneCallbacks,
  ) {
    super({ key: 'arena' });
    this.created = new Promise((resolve) => (this.markCreated = resolve));
    this.playerId = source.playerId;
    this.motion = new Motion(this.playerId);
  }

  /** Starts reading the keys (after the title screen). */
  enableInput(): void {
    this.enabled = true;
  }

  /** A new arena or a new own player (online ↔ offline): forget the motion state. */
  resetMotion(): void {
    this.playerId = this.source.playerId;
    this.motion = new Motion(this.playerId);
    this.selected = null;
  }

  /** Feeds a state to the motion (call on every state event, with its arrival time). */
  onState(view: ArenaView, arrivalMs: number): void {
    if (this.source.playerId !== this.playerId) this.resetMotion();
    this.motion.onState(view, arrivalMs);
  }

  /** The measured round trip (the prediction samples inputs that far ahead), ms. */
  setRoundTrip(ms: number): void {
    this.motion.setRoundTrip(ms);
  }

  get tickRate(): number {
    return this.motion.tickRate;
  }

  get predictionCorrections(): { corrections: number; snaps: number; restarts: number } {
    return this.motion.corrections;
  }

  /** The guard the inspector shows (null: none). */
  select(id: string | null): void {
    this.selected = id;
  }

  /** Display names of players (`id` → name). */
  setNames(names: Map<string, string>): void {
    this.names = names;
  }

  /** The big centred message ('' hides it): the respawn countdown, the end of a round. */
  setBanner(text: string): void {
    this.bannerText = text;
  }

  /**
   * A floating text at an arena position.
   *
   * @param color - a colour number
   */
  pop(text: string, x: number, y: number, color: number, big = false): void {
    if (!this.graphics) return;
    while (this.pops.length >= MAX_POPS) this.pops.shift()!.text.destroy();
    const t = this.add
      .text(0, 0, text, {
        fontFamily: 'system-ui, sans-serif',
        fontSize: big ? '22px' : '15px',
        fontStyle: 'bold',
        color: css(color),
        stroke: '#000000',
        strokeThickness: 4,
      })
      .setOrigin(0.5, 1)
      .setDepth(10);
    this.pops.push({ text: t, born: this.now, x, y });
  }

  create(): void {
    this.markCreated();
    this.graphics = this.add.graphics();
    this.waiting = this.add
      .text(this.scale.width / 2, this.scale.height / 2, 'joining the arena…', {
        fontFamily: 'system-ui, sans-serif',
        fontSize: '18px',
        color: '#e5e7eb',
      })
      .setOrigin(0.5);
    this.banner = this.add
      .text(this.scale.width / 2, this.scale.height * 0.4, '', {
        fontFamily: 'system-ui, sans-serif',
        fontSize: '26px',
        fontStyle: 'bold',
        color: '#f9fafb',
        stroke: '#000000',
        strokeThickness: 6,
        align: 'center',
        wordWrap: { width: this.scale.width - 60, useAdvancedWrap: true },
      })
      .setOrigin(0.5)
      .setDepth(20);
    const kb = this.input.keyboard;
    if (kb) {
      const K = Phaser.Input.Keyboard.KeyCodes;
      this.keys = kb.addKeys({
        up: K.UP,
        down: K.DOWN,
        left: K.LEFT,
        right: K.RIGHT,
        w: K.W,
        a: K.A,
        s: K.S,
        d: K.D,
        space: K.SPACE,
      }) as Keys;
      kb.on('keydown-M', () => this.callbacks.onToggleMute());
    }
    this.input.on('pointermove', (p: Phaser.Input.Pointer) => {
      this.hovered = this.guardAt(p.worldX, p.worldY);
      this.input.setDefaultCursor(this.hovered ? 'pointer' : 'default');
    });
    this.input.on('pointerdown', (p: Phaser.Input.Pointer) => {
      const id = this.guardAt(p.worldX, p.worldY);
      this.selected = id;
      this.callbacks.onSelectGuard(id);
    });
  }

  override update(time: number): void {
    this.now = time;
    this.readKeys();
    const view = this.source.view();
    const ready = view !== null && view.width > 0;
    this.waiting.setVisible(!ready);
    this.banner.setText(this.bannerText).setVisible(this.bannerText !== '');
    if (!ready) return;
    const now = performance.now();
    this.motion.frame(now, this.intent);
    this.draw(view, now);
    this.record(view, now);
  }

  private readKeys(): void {
    if (!this.keys || !this.enabled) return;
    const k = this.keys;
    const dx = (k.right.isDown || k.d.isDown ? 1 : 0) - (k.left.isDown || k.a.isDown ? 1 : 0);
    const dy = (k.down.isDown || k.s.isDown ? 1 : 0) - (k.up.isDown || k.w.isDown ? 1 : 0);
    const attack = k.space.isDown;
    if (dx !== this.intent.dx || dy !== this.intent.dy || attack !== this.intent.attack) {
      this.intent = { dx, dy, attack };
      this.callbacks.onIntent(this.intent);
    }
  }

  /** The guard nearest to a pointer position (game coordinates), if one is within reach. */
  private guardAt(gx: number, gy: number): string | null {
    const view = this.source.view();
    if (!view || view.width === 0) return null;
    const x = (gx * view.width) / this.scale.width;
    const y = (gy * view.height) / this.scale.height;
    let best: string | null = null;
    let bestD = PICK_RADIUS;
    const now = performance.now();
    view.guards.forEach((_g, id) => {
      if (!this.motion.position(`g:${id}`, now, this.at)) return;
      const d = Math.hypot(this.at.x - x, this.at.y - y);
      if (d < bestD) [best, bestD] = [id, d];
    });
    return best;
  }

  private record(view: ArenaView, now: number): void {
    const left = window.__playmindRecord ?? 0;
    if (left <= 0) return;
    window.__playmindRecord = left - 1;
    const players: RecordedFrame['players'] = {};
    view.players.forEach((_p, id) => {
      if (this.motion.position(`p:${id}`, now, this.at)) players[id] = [this.at.x, this.at.y];
    });
    (window.__playmindFrames ??= []).push({ t: now, players });
  }

  private draw(view: ArenaView, now: number): void {
    const g = this.graphics;
    const sx = this.scale.width / view.width;
    const sy = this.scale.height / view.height;
    g.clear();
    g.setScale(sx, sy);

    // Floor and grid.
    g.fillStyle(COLORS.background, 1).fillRect(0, 0, view.width, view.height);
    g.lineStyle(1, COLORS.grid, 1);
    for (let x = 50; x < view.width; x += 50) g.lineBetween(x, 0, x, view.height);
    for (let y = 50; y < view.height; y += 50) g.lineBetween(0, y, view.width, y);
    g.lineStyle(4, COLORS.wall, 1).strokeRect(2, 2, view.width - 4, view.height - 4);

    view.obstacles.forEach((o) => {
      g.fillStyle(COLORS.obstacle, 1).fillRect(o.x, o.y, o.w, o.h);
      g.lineStyle(2, COLORS.obstacleEdge, 1).strokeRect(o.x, o.y, o.w, o.h);
    });

    view.collectibles.forEach((c) => {
      if (!c.active) return;
      const r = COLLECTIBLE_RADIUS;
      g.fillStyle(COLORS.collectible, 1);
      g.fillTriangle(c.x, c.y - r, c.x + r, c.y, c.x - r, c.y);
      g.fillTriangle(c.x, c.y + r, c.x + r, c.y, c.x - r, c.y);
    });

    const seen = new Set<string>();
    const me = this.playerId;
    const mePlayer = view.players.get(me);
    const target = questTargetOf(mePlayer);
    if (mePlayer && target) {
      seen.add(QUEST_TARGET_LABEL);
      this.questTarget(target.x, target.y, view.quests.get(mePlayer.quest)?.title ?? mePlayer.quest, sx, sy);
    }

    const selected = this.selected ? view.guards.get(this.selected) : undefined;
    if (selected && selected.alive && this.motion.position(`g:${this.selected}`, now, this.at)) {
      this.sight(selected, this.at.x, this.at.y, now);
    }

    view.guards.forEach((guard, id) => {
      const key = `g:${id}`;
      seen.add(key);
      if (!this.motion.position(key, now, this.at)) return;
      const { x, y } = this.at;
      const color = guard.alive ? (ACTION_COLORS[guard.action] ?? UNKNOWN_ACTION_COLOR) : COLORS.dead;
      // Guards are squares, players circles.
      const r = GUARD_RADIUS;
      g.fillStyle(color, guard.alive ? 1 : 0.4).fillRect(x - r, y - r, 2 * r, 2 * r);
      const outlined = id === this.selected || id === this.hovered;
      g.lineStyle(outlined ? 3 : 2, outlined ? 0xffffff : 0x0b0f16, 1).strokeRect(x - r, y - r, 2 * r, 2 * r);
      if (guard.alive) this.healthBar(x, y - GUARD_RADIUS - 7, guard.health);
      const label = this.label(key);
      label.setText(guard.alive ? guard.action : 'down');
      label.setColor(css(color));
      label.setPosition(x * sx, (y - GUARD_RADIUS - 10) * sy);
    });

    view.players.forEach((player, id) => {
      const key = `p:${id}`;
      seen.add(key);
      if (!this.motion.position(key, now, this.at)) return;
      const { x, y } = this.at;
      const mine = id === me;
      if (mine && player.alive && this.intent.attack) {
        g.fillStyle(COLORS.me, 0.15).fillCircle(x, y, ATTACK_RANGE);
        g.lineStyle(1, COLORS.me, 0.6).strokeCircle(x, y, ATTACK_RANGE);
      }
      const color = !player.alive
        ? COLORS.dead
        : mine
          ? COLORS.me
          : player.kind === 'human'
            ? COLORS.human
            : COLORS.bot;
      g.fillStyle(color, player.alive ? 1 : 0.4).fillCircle(x, y, PLAYER_RADIUS);
      if (mine) g.lineStyle(3, COLORS.meRing, 1).strokeCircle(x, y, PLAYER_RADIUS + 4);
      if (player.alive) this.healthBar(x, y - PLAYER_RADIUS - 7 - (mine ? 4 : 0), player.health);
      const label = this.label(key);
      const name = mine ? 'you' : (this.names.get(id) ?? '');
      label.setText(player.alive ? name : `${name} (down)`);
      label.setColor(css(mine ? COLORS.meRing : color));
      label.setPosition(x * sx, (y + PLAYER_RADIUS + 20) * sy);
    });

    // The hint towards the quest target, over the entities, from the drawn own player.
    if (target && mePlayer?.alive && this.motion.position(`p:${me}`, now, this.at))
      this.questHint(this.at.x, this.at.y, target.x, target.y);

    this.drawPops(sx, sy);

    // Drop what left the state.
    for (const [key, label] of this.labels) {
      if (!seen.has(key)) {
        label.destroy();
        this.labels.delete(key);
      }
    }
  }

  /** The selected guard's sight range and, when it has one, the line to its target. */
  private sight(guard: GuardView, x: number, y: number, now: number): void {
    const g = this.graphics;
    g.fillStyle(0xffffff, 0.05).fillCircle(x, y, SIGHT_RANGE);
    g.lineStyle(1, 0xffffff, 0.35).strokeCircle(x, y, SIGHT_RANGE);
    const targetId = (guard as GuardView & { target?: string }).target;
    if (targetId && this.motion.position(`p:${targetId}`, now, this.at)) {
      const sees = (guard as GuardView & { sees?: boolean }).sees !== false;
      g.lineStyle(2, 0xef4444, sees ? 0.9 : 0.4).lineBetween(x, y, this.at.x, this.at.y);
      g.lineStyle(2, 0xef4444, 0.9).strokeCircle(this.at.x, this.at.y, PLAYER_RADIUS + 6);
    }
  }

  private drawPops(sx: number, sy: number): void {
    for (let i = this.pops.length - 1; i >= 0; i--) {
      const p = this.pops[i]!;
      const age = this.now - p.born;
      if (age > POP_MS) {
        p.text.destroy();
        this.pops.splice(i, 1);
        continue;
      }
      const u = age / POP_MS;
      // Kept inside the canvas (a pop next to a wall would be cut).
      const half = p.text.width / 2 + 4;
      const x = Math.min(this.scale.width - half, Math.max(half, p.x * sx));
      const y = Math.max(p.text.height + 4, (p.y - 18 - 36 * u) * sy);
      p.text.setPosition(x, y).setAlpha(1 - u * u);
    }
  }

  /** The own visit quest's target: the reach ring, a pulse spreading out of it, and the quest's title above. */
  private questTarget(x: number, y: number, title: string, sx: number, sy: number): void {
    const g = this.graphics;
    const c = COLORS.questTarget;
    const phase = (((this.now % PULSE_PERIOD_MS) + PULSE_PERIOD_MS) % PULSE_PERIOD_MS) / PULSE_PERIOD_MS;
    g.fillStyle(c, 0.12 + 0.08 * Math.sin(phase * 2 * Math.PI)).fillCircle(x, y, QUEST_REACH);
    g.lineStyle(2, c, 0.9).strokeCircle(x, y, QUEST_REACH);
    g.lineStyle(2, c, 0.7 * (1 - phase)).strokeCircle(x, y, QUEST_REACH + PULSE_SPREAD * phase);
    // A small star-like cross marks the exact point.
    g.lineStyle(2, c, 1)
      .lineBetween(x - 5, y, x + 5, y)
      .lineBetween(x, y - 5, x, y + 5);
    const label = this.label(QUEST_TARGET_LABEL);
    label.setText(title);
    label.setColor(css(c));
    label.setPosition(x * sx, (y - QUEST_REACH - 6) * sy);
  }

  /** A dashed line from the player to the target's ring, with an arrowhead near the player pointing at it. */
  private questHint(px: number, py: number, tx: number, ty: number): void {
    const dx = tx - px;
    const dy = ty - py;
    const d = Math.hypot(dx, dy);
    const start = ARROW_OFFSET + ARROW_SIZE;
    const end = d - QUEST_REACH - 4;
    if (end <= start) return; // at (or nearly in) the ring already
    const ux = dx / d;
    const uy = dy / d;
    const g = this.graphics;
    const c = COLORS.questTarget;
    g.lineStyle(2, c, 0.55);
    for (let s = start; s < end; s += HINT_DASH + HINT_GAP) {
      const e = Math.min(end, s + HINT_DASH);
      g.lineBetween(px + ux * s, py + uy * s, px + ux * e, py + uy * e);
    }
    // Arrowhead: tip at ARROW_OFFSET + ARROW_SIZE, base at ARROW_OFFSET.
    const tipX = px + ux * (ARROW_OFFSET + ARROW_SIZE);
    const tipY = py + uy * (ARROW_OFFSET + ARROW_SIZE);
    const baseX = px + ux * ARROW_OFFSET;
    const baseY = py + uy * ARROW_OFFSET;
    const half = ARROW_SIZE * 0.6;
    g.fillStyle(c, 0.95).fillTriangle(
      tipX,
      tipY,
      baseX - uy * half,
      baseY + ux * half,
      baseX + uy * half,
      baseY - ux * half,
    );
  }

  private healthBar(cx: number, y: number, health: number): void {
    const w = 24;
    const share = Math.max(0, Math.min(1, health / MAX_HEALTH));
    const g = this.graphics;
    g.fillStyle(COLORS.healthBack, 0.9).fillRect(cx - w / 2 - 1, y - 1, w + 2, 5);
    g.fillStyle(share > 0.35 ? COLORS.healthGood : COLORS.healthLow, 1).fillRect(cx - w / 2, y, w * share, 3);
  }

  private label(key: string): Phaser.GameObjects.Text {
    let t = this.labels.get(key);
    if (!t) {
      t = this.add
        .text(0, 0, '', {
          fontFamily: 'monospace',
          fontSize: '11px',
          color: '#ffffff',
          stroke: '#000000',
          strokeThickness: 3,
        })
        .setOrigin(0.5, 1);
      this.labels.set(key, t);
    }
    return t;
  }
}
