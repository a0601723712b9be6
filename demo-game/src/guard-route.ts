/**
 * Who is really driving the guards, for an honest HUD: the server's model,
 * the server's fallback heuristic (the model could not answer), the model in
 * this page (offline mode), or the page's fallback heuristic — read from what
 * the guards carry (`model` is `npc-guard@<version>` or
 * `npc-guard@fallback:<heuristic>`) and, offline, from who served the page's
 * last decision. Also counts decisions that came late.
 *
 * @module
 */
import type { ArenaView, InferenceSummary } from './arena-source.js';

/** The route serving the guards. */
export type GuardRoute = 'server-model' | 'server-fallback' | 'local-model' | 'local-fallback' | 'scripted' | 'none';

/** What the HUD shows about the guards' decisions. */
export interface GuardRouteInfo {
  route: GuardRoute;
  /** A line for players, e.g. `server · model npc-guard@1`. */
  label: string;
  /** The deciding model version (`npc-guard@1`), or the heuristic's (`npc-guard@fallback:expert-guard`); '' before any. */
  model: string;
  /** Share of living guards whose action came from the fallback heuristic (0..1). */
  fallbackShare: number;
}

const FALLBACK = /@fallback:(.+)$/;

/** The most common decider among living guards. */
function deciders(view: ArenaView): { model: string; fallbackShare: number } {
  const counts = new Map<string, number>();
  let alive = 0;
  let fallback = 0;
  view.guards.forEach((g) => {
    if (!g.alive || !g.model || g.model === 'initial') return;
    alive++;
    if (FALLBACK.test(g.model)) fallback++;
    counts.set(g.model, (counts.get(g.model) ?? 0) + 1);
  });
  let model = '';
  let n = 0;
  for (const [m, c] of counts) if (c > n) [model, n] = [m, c];
  return { model, fallbackShare: alive > 0 ? fallback / alive : 0 };
}

/**
 * The route serving the guards now.
 *
 * @param inference - the page's inference summary (offline), null online
 */
export function guardRouteOf(
  mode: 'online' | 'offline',
  view: ArenaView | null,
  inference: InferenceSummary | null,
): GuardRouteInfo {
  if (!view) return { route: 'none', label: 'waiting for the first decision', model: '', fallbackShare: 0 };
  const { model, fallbackShare } = deciders(view);
  let scripted = false;
  view.guards.forEach((g) => {
    if (g.alive && g.servedBy === 'scripted') scripted = true;
  });
  if (scripted)
    return {
      route: 'scripted',
      label: `${mode === 'offline' ? 'this page' : 'server'} · the scripted expert guard (no model), as toggled`,
      model,
      fallbackShare: 0,
    };
  if (mode === 'offline') {
    const served = inference?.guardsServedBy ?? '';
    if (served === 'fallback' || FALLBACK.test(model)) {
      const h = FALLBACK.exec(model)?.[1];
      return {
        route: 'local-fallback',
        label: `this page · fallback heuristic${h ? ` (${h})` : ''}: the model cannot answer`,
        model,
        fallbackShare: 1,
      };
    }
    if (served === 'local' && model)
      return {
        route: 'local-model',
        label: `this page · model ${model} (${inference?.backend ?? 'onnxruntime-web'})`,
        model,
        fallbackShare,
      };
    return { route: 'none', label: 'this page · loading the model', model, fallbackShare };
  }
  if (!model) return { route: 'none', label: 'server · waiting for the first decision', model, fallbackShare };
  const h = FALLBACK.exec(model)?.[1];
  if (h)
    return {
      route: 'server-fallback',
      label: `server · fallback heuristic (${h}): the model cannot answer`,
      model,
      fallbackShare,
    };
  return { route: 'server-model', label: `server · model ${model}`, model, fallbackShare };
}

/**
 * Counts ticks whose guard decision was not back in time (the guards kept
 * their last actions): online from the guards' `decisionTick` (an on-time
 * decision observed tick `t - 1`), offline from the page's own count.
 */
export class LateDecisions {
  private lastTick = -1;
  private late = 0;
  private ticks = 0;
  /** The last 200 ticks, late or not. */
  private readonly window: boolean[] = [];

  observe(view: ArenaView): void {
    if (view.tick === this.lastTick) return;
    this.lastTick = view.tick;
    let newest = -1;
    let any = false;
    view.guards.forEach((g) => {
      const d = (g as { decisionTick?: number }).decisionTick;
      if (typeof d !== 'number' || !g.alive) return;
      any = true;
      newest = Math.max(newest, d);
    });
    if (!any || newest === 0) return; // offline views have no decisionTick; 0 = before the first decision
    const isLate = newest < view.tick - 1;
    this.ticks++;
    if (isLate) this.late++;
    this.window.push(isLate);
    if (this.window.length > 200) this.window.shift();
  }

  /** Late ticks and ticks counted, in total and over the last 200 ticks. */
  counts(inference: InferenceSummary | null): { late: number; of: number; recentLate: number; recentOf: number } {
    if (inference)
      return {
        late: inference.deadlineMisses,
        of: inference.decisions + inference.deadlineMisses,
        recentLate: inference.deadlineMisses,
        recentOf: inference.decisions + inference.deadlineMisses,
      };
    return {
      late: this.late,
      of: this.ticks,
      recentLate: this.window.filter(Boolean).length,
      recentOf: this.window.length,
    };
  }

  reset(): void {
    this.lastTick = -1;
    this.late = 0;
    this.ticks = 0;
    this.window.length = 0;
  }
}
