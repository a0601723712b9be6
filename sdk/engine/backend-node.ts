/** The onnxruntime-node backend (CPU). Node only. */
import * as ort from 'onnxruntime-node';
import type { Backend } from './backend.js';
import { ortBackend, type OrtModule } from './backend-ort.js';

/**
 * Creates the onnxruntime-node backend.
 * @param intraOpNumThreads - threads per session; @default 1 (the engine batches instead)
 */
export function nodeBackend(intraOpNumThreads = 1): Backend {
  return ortBackend('onnxruntime-node', ort as unknown as OrtModule, {
    intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}
