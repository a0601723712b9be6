/**
 * The Prometheus series of rollouts, on the server's registry: shadow agreement and
 * latency, per-version decisions, inference errors and game KPIs, and rollout
 * transitions.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Held-out scores of a version. */
interface SliceScores {
  readonly recallAt10: number;
  readonly ndcgAt10: number;
}

const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** See the module documentation. */
export class RolloutMetrics {
  private readonly info: Gauge<'model' | 'mode' | 'serving' | 'candidate' | 'status'>;
  private readonly agreement: Gauge<'model' | 'serving' | 'candidate'>;
  private readonly probabilityDifference: Gauge<'model' | 'serving' | 'candidate'>;
  private readonly shadowRows: Counter<'model' | 'candidate' | 'outcome'>;
  private readonly shadowLatency: Histogram<'model' | 'candidate'>;
  private readonly decisions: Counter<'model' | 'version'>;
  private readonly errors: Counter<'model' | 'version'>;
  private readonly kpi: Gauge<'model' | 'version' | 'kpi'>;
  private readonly transitions: Counter<'model' | 'to'>;
  private readonly retrainRuns: Counter<'model' | 'outcome'>;
  private readonly retrainScore: Gauge<'model' | 'which' | 'metric'>;
  private readonly infoLabels = new Map<string, Record<string, string>>();

  constructor(registry: Registry) {
    const registers = [registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    this.info = gauge(
      'playmind_rollout_info',
      'The current or last rollout of a model (1), with its mode, versions and status.',
      ['model', 'mode', 'serving', 'candidate', 'status'],
    );
    this.agreement = gauge(
      'playmind_shadow_agreement',
      'Share of guard decisions where the shadow candidate chose the same action as the serving version.',
      ['model', 'serving', 'candidate'],
    );
    this.probabilityDifference = gauge(
      'playmind_shadow_max_probability_difference',
      'Largest difference of one action probability between the shadow candidate and the serving version.',
      ['model', 'serving', 'candidate'],
    );
    this.shadowRows = counter(
      'playmind_shadow_decisions_total',
      'Guard decisions the shadow candidate made (outcome agreed, disagreed or error).',
      ['model', 'candidate', 'outcome'],
    );
    this.shadowLatency = new Histogram({
      name: 'playmind_shadow_latency_seconds',
      help: "Time the shadow candidate took for one tick's batched decision (off the tick's critical path).",
      labelNames: ['model', 'candidate'] as const,
      buckets: SECONDS,
      registers,
    });
    this.decisions = counter(
      'playmind_version_decisions_total',
      'Guard decisions asked of a model version (rows), in rollouts and outside them.',
      ['model', 'version'],
    );
    this.errors = counter(
      'playmind_version_inference_errors_total',
      'Guard decisions (rows) a model version failed to make.',
      ['model', 'version'],
    );
    this.kpi = gauge(
      'playmind_version_kpi',
      'Game KPIs per model version: guardReturn (reward per guard-minute), playerDeathsPerMinute, playerKillsPerMinute (guards downed), questCompletion (finished / taken), errorRate.',
      ['model', 'version', 'kpi'],
    );
    this.retrainRuns = counter(
      'playmind_recs_retrain_runs_total',
      'Recommender retraining runs: promoted (the new version was better), refused (it was not), skipped (too little telemetry).',
      ['model', 'outcome'],
    );
    this.retrainScore = gauge(
      'playmind_recs_retrain_score',
      "The last retraining run's held-out scores (recall@10, NDCG@10) of the new and the serving version.",
      ['model', 'which', 'metric'],
    );
    this.transitions = counter(
      'playmind_rollout_transitions_total',
      'Rollouts that ended: promoted, rolled-back or stopped.',
      ['model', 'to'],
    );
  }

  /** A recommender retraining run ended. */
  retrain(
    model: string,
    outcome: 'promoted' | 'refused' | 'skipped',
    scores: { candidate: SliceScores | null; serving: SliceScores | null },
  ): void {
    this.retrainRuns.inc({ model, outcome });
    for (const which of ['candidate', 'serving'] as const) {
      const s = scores[which];
      if (!s) continue;
      this.retrainScore.set({ model, which, metric: 'recall@10' }, s.recallAt10);
      this.retrainScore.set({ model, which, metric: 'ndcg@10' }, s.ndcgAt10);
    }
  }

  /** The rollout of `model` is now in this state. */
  state(model: string, mode: string, serving: number, candidate: number, status: string): void {
    const prev = this.infoLabels.get(model);
    if (prev) this.info.remove(prev);
    const labels = { model, mode, serving: String(serving), candidate: String(candidate), status };
    this.infoLabels.set(model, labels);
    this.info.set(labels, 1);
  }

  transition(model: string, to: string): void {
    this.transitions.inc({ model, to });
  }

  shadow(
    model: string,
    serving: number,
    candidate: number,
    rows: { agreed: number; disagreed: number; errors: number },
    agreement: number | null,
    maxProbabilityDifference: number | null,
    latencyMs: number | null,
  ): void {
    const c = String(candidate);
    if (rows.agreed) this.shadowRows.inc({ model, candidate: c, outcome: 'agreed' }, rows.agreed);
    if (rows.disagreed) this.shadowRows.inc({ model, candidate: c, outcome: 'disagreed' }, rows.disagreed);
    if (rows.errors) this.shadowRows.inc({ model, candidate: c, outcome: 'error' }, rows.errors);
    const labels = { model, serving: String(serving), candidate: c };
    if (agreement !== null) this.agreement.set(labels, agreement);
    if (maxProbabilityDifference !== null) this.probabilityDifference.set(labels, maxProbabilityDifference);
    if (latencyMs !== null) this.shadowLatency.observe({ model, candidate: c }, latencyMs / 1000);
  }

  decision(model: string, version: number, rows: number, errors: number): void {
    const labels = { model, version: String(version) };
    if (rows) this.decisions.inc(labels, rows);
    if (errors) this.errors.inc(labels, errors);
  }

  kpis(model: string, version: number, values: Readonly<Record<string, number | null>>): void {
    for (const [kpi, v] of Object.entries(values))
      if (v !== null) this.kpi.set({ model, version: String(version), kpi }, v);
  }
}
