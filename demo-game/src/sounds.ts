/**
 * Short sounds made in code with WebAudio (no audio files): a blip per
 * feedback event, a few oscillator notes with a fast envelope. The audio
 * context starts on the player's first gesture (the title screen's Play), as
 * browsers require; `M` mutes.
 *
 * @module
 */

/** The sounds the game plays. */
export type SoundName = 'hit' | 'hurt' | 'kill' | 'pickup' | 'quest' | 'down' | 'respawn' | 'offline' | 'online';

/** One note: frequency (Hz), start and length (s), waveform, peak gain. */
type Note = [freq: number, at: number, len: number, wave: OscillatorType, gain: number];

/** Notes one after another: `[frequency, length]` pairs, each starting `step` after the previous one (0: when it ends). */
function seq(wave: OscillatorType, gain: number, notes: readonly [number, number][], step = 0): Note[] {
  let at = 0;
  return notes.map(([freq, len]) => {
    const n: Note = [freq, at, len, wave, gain];
    at += step || len;
    return n;
  });
}

const SOUNDS: Readonly<Record<SoundName, readonly Note[]>> = {
  hit: seq('square', 0.12, [[520, 0.06]]),
  hurt: seq(
    'sawtooth',
    0.12,
    [
      [220, 0.08],
      [160, 0.1],
    ],
    0.05,
  ),
  kill: seq(
    'square',
    0.12,
    [
      [440, 0.08],
      [660, 0.08],
      [880, 0.14],
    ],
    0.07,
  ),
  pickup: seq('sine', 0.17, [
    [988, 0.05],
    [1319, 0.09],
  ]),
  quest: seq('triangle', 0.2, [
    [523, 0.1],
    [659, 0.1],
    [784, 0.1],
    [1047, 0.25],
  ]),
  down: seq(
    'sawtooth',
    0.12,
    [
      [330, 0.15],
      [247, 0.15],
      [165, 0.3],
    ],
    0.12,
  ),
  respawn: seq('sine', 0.13, [
    [392, 0.08],
    [784, 0.12],
  ]),
  offline: seq('triangle', 0.12, [
    [440, 0.12],
    [330, 0.18],
  ]),
  online: seq('triangle', 0.12, [
    [330, 0.12],
    [440, 0.18],
  ]),
};

/** See the module documentation. */
export class Sounds {
  private ctx: AudioContext | null = null;
  private muted = false;
  /** Sounds played (or that would have been, when muted or without audio), by name: for the HUD and tests. */
  readonly played: Record<SoundName, number> = {
    hit: 0,
    hurt: 0,
    kill: 0,
    pickup: 0,
    quest: 0,
    down: 0,
    respawn: 0,
    offline: 0,
    online: 0,
  };

  /** Creates (or resumes) the audio context; call from a user gesture. */
  unlock(): void {
    if (this.ctx || typeof AudioContext === 'undefined') {
      void this.ctx?.resume().catch(() => {});
      return;
    }
    try {
      this.ctx = new AudioContext();
    } catch {
      this.ctx = null; // no audio device: the game plays silently
    }
  }

  get isMuted(): boolean {
    return this.muted;
  }

  /** Whether an audio context is running. */
  get enabled(): boolean {
    return this.ctx !== null && !this.muted;
  }

  toggleMute(): boolean {
    this.muted = !this.muted;
    return this.muted;
  }

  play(name: SoundName): void {
    this.played[name]++;
    const ctx = this.ctx;
    if (!ctx || this.muted) return;
    const t0 = ctx.currentTime + 0.01;
    for (const [freq, at, len, wave, gain] of SOUNDS[name]) {
      const osc = ctx.createOscillator();
      const env = ctx.createGain();
      osc.type = wave;
      osc.frequency.setValueAtTime(freq, t0 + at);
      env.gain.setValueAtTime(0, t0 + at);
      env.gain.linearRampToValueAtTime(gain, t0 + at + 0.008);
      env.gain.exponentialRampToValueAtTime(0.0001, t0 + at + len);
      osc.connect(env).connect(ctx.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + len + 0.02);
    }
  }
}
