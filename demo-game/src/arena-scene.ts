/**
 * The Phaser scene: draws the arena top-down with simple shapes (obstacles,
 * collectibles, guards coloured by action with the action as a label, players
 * with the own one highlighted, health bars, and the target of the own
 * player's active `visit` quest: a pulsing ring with the quest's title and a
 * dashed arrow from the player towards it) and turns WASD / arrows / SPACE
 * into the player's intent.
 *
 * @module
 */
import * as Phaser from 'phaser';
import { questTargetOf, type ArenaSource, type ArenaView, type PlayerIntent } from './arena-source.js';
import { ACTION_COLORS, COLORS, UNKNOWN_ACTION_COLOR, css } from './palette.js';

/** Sizes from the simulation's defaults (`server/sim/config.ts`). */
const PLAYER_RADIUS = 10;
const GUARD_RADIUS = 11;
const COLLECTIBLE_RADIUS = 8;
const ATTACK_RANGE = 40;
const MAX_HEALTH = 100;
/** Displayed positions follow the 20 Hz state at this rate (1/s); farther jumps snap. */
const FOLLOW_RATE = 18;
const SNAP_DISTANCE = 80;
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
/** Label key of the quest target. */
const QUEST_TARGET_LABEL = 'quest-target';

type Keys = Record<'up' | 'down' | 'left' | 'right' | 'w' | 'a' | 's' | 'd' | 'space', Phaser.Input.Keyboard.Key>;

/** See the module documentation. */
export class ArenaScene extends Phaser.Scene {
  private graphics!: Phaser.GameObjects.Graphics;
  private keys: Keys | null = null;
  private readonly labels = new Map<string, Phaser.GameObjects.Text>();
  private readonly shown = new Map<string, { x: number; y: number }>();
  private waiting!: Phaser.GameObjects.Text;
  private intent: PlayerIntent = { dx: 0, dy: 0, attack: false };
  /** Scene time of the current frame, ms (drives the quest target's pulse). */
  private now = 0;

  constructor(
    private readonly source: ArenaSource,
    private readonly onIntent: (intent: PlayerIntent) => void,
  ) {
    super({ key: 'arena' });
  }

  create(): void {
    this.graphics = this.add.graphics();
    this.waiting = this.add
      .text(this.scale.width / 2, this.scale.height / 2, 'joining the arena…', {
        fontFamily: 'monospace',
        fontSize: '18px',
        color: '#e5e7eb',
      })
      .setOrigin(0.5);
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
    }
  }

  override update(time: number, deltaMs: number): void {
    this.now = time;
    this.readKeys();
    const view = this.source.view();
    this.waiting.setVisible(view === null || view.width === 0);
    if (view === null || view.width === 0) return;
    this.draw(view, Math.min(1, (deltaMs / 1000) * FOLLOW_RATE));
  }

  private readKeys(): void {
    if (!this.keys) return;
    const k = this.keys;
    const dx = (k.right.isDown || k.d.isDown ? 1 : 0) - (k.left.isDown || k.a.isDown ? 1 : 0);
    const dy = (k.down.isDown || k.s.isDown ? 1 : 0) - (k.up.isDown || k.w.isDown ? 1 : 0);
    const attack = k.space.isDown;
    if (dx !== this.intent.dx || dy !== this.intent.dy || attack !== this.intent.attack) {
      this.intent = { dx, dy, attack };
      this.onIntent(this.intent);
    }
  }

  /** The displayed position of an entity, easing towards its state position. */
  private follow(id: string, x: number, y: number, blend: number): { x: number; y: number } {
    const p = this.shown.get(id);
    if (!p || Math.hypot(x - p.x, y - p.y) > SNAP_DISTANCE) {
      const fresh = { x, y };
      this.shown.set(id, fresh);
      return fresh;
    }
    p.x += (x - p.x) * blend;
    p.y += (y - p.y) * blend;
    return p;
  }

  private draw(view: ArenaView, blend: number): void {
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
    const me = this.source.playerId;
    const mePlayer = view.players.get(me);
    const target = questTargetOf(mePlayer);
    if (mePlayer && target) {
      seen.add(QUEST_TARGET_LABEL);
      this.questTarget(target.x, target.y, view.quests.get(mePlayer.quest)?.title ?? mePlayer.quest, sx, sy);
    }

    view.guards.forEach((guard, id) => {
      const key = `g:${id}`;
      seen.add(key);
      const p = this.follow(key, guard.x, guard.y, blend);
      const color = guard.alive ? (ACTION_COLORS[guard.action] ?? UNKNOWN_ACTION_COLOR) : COLORS.dead;
      // Guards are squares, players circles.
      const r = GUARD_RADIUS;
      g.fillStyle(color, guard.alive ? 1 : 0.4).fillRect(p.x - r, p.y - r, 2 * r, 2 * r);
      g.lineStyle(2, 0x0b0f16, 1).strokeRect(p.x - r, p.y - r, 2 * r, 2 * r);
      if (guard.alive) this.healthBar(p.x, p.y - GUARD_RADIUS - 7, guard.health);
      const label = this.label(key);
      label.setText(guard.alive ? guard.action : 'down');
      label.setColor(css(color));
      label.setPosition(p.x * sx, (p.y - GUARD_RADIUS - 10) * sy);
    });

    view.players.forEach((player, id) => {
      const key = `p:${id}`;
      seen.add(key);
      const p = this.follow(key, player.x, player.y, blend);
      const mine = id === me;
      if (mine && player.alive && this.intent.attack) {
        g.fillStyle(COLORS.me, 0.15).fillCircle(p.x, p.y, ATTACK_RANGE);
        g.lineStyle(1, COLORS.me, 0.6).strokeCircle(p.x, p.y, ATTACK_RANGE);
      }
      const color = !player.alive
        ? COLORS.dead
        : mine
          ? COLORS.me
          : player.kind === 'human'
            ? COLORS.human
            : COLORS.bot;
      g.fillStyle(color, player.alive ? 1 : 0.4).fillCircle(p.x, p.y, PLAYER_RADIUS);
      if (mine) g.lineStyle(3, COLORS.meRing, 1).strokeCircle(p.x, p.y, PLAYER_RADIUS + 4);
      if (player.alive) this.healthBar(p.x, p.y - PLAYER_RADIUS - 7 - (mine ? 4 : 0), player.health);
      if (mine) {
        const label = this.label(key);
        label.setText(player.alive ? 'you' : 'you (down)');
        label.setColor(css(COLORS.meRing));
        label.setPosition(p.x * sx, (p.y + PLAYER_RADIUS + 20) * sy);
      }
    });

    // The hint towards the quest target, over the entities, from the displayed own player.
    const shownMe = this.shown.get(`p:${me}`);
    if (target && mePlayer?.alive && shownMe) this.questHint(shownMe.x, shownMe.y, target.x, target.y);

    // Drop what left the state.
    for (const [key, label] of this.labels) {
      if (!seen.has(key)) {
        label.destroy();
        this.labels.delete(key);
      }
    }
    for (const key of this.shown.keys()) if (!seen.has(key)) this.shown.delete(key);
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
