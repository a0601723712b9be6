/**
 * The recommender trainer's seam: what `playmind train-recs` runs, for a process that
 * retrains a recommender from its own telemetry (the Playmind server's live retraining
 * loop). Node only (it writes files).
 *
 * @example
 * const model = trainRecommender({ name: 'quest-recs', interactions, catalogue });
 * await writeFile('models/quest-recs/2/model.onnx', model.onnx);
 *
 * @module
 */
export { trainRecommender, fitRecommender, recommenderManifest, writeModelFolder } from './trainer.js';
export type { CatalogueEntry, FitOptions, TrainOptions, TrainedRecommender, WrittenModel } from './trainer.js';
export { buildDataset } from './dataset.js';
export type { Dataset } from './dataset.js';
export { readInteractions, parseInteractions } from './interactions.js';
export type { Interaction, LogFormat } from './interactions.js';
export { rankScore, MetricMean } from './metrics.js';
export type { RankScore } from './metrics.js';
export { TENSORS as RECOMMENDER_TENSORS } from './onnx-export.js';
