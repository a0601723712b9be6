/**
 * The backend over an onnxruntime JS package (onnxruntime-node or onnxruntime-web:
 * both expose the same `InferenceSession` / `Tensor` API from onnxruntime-common).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import {
  metaFrom,
  type Backend,
  type BackendSession,
  type SessionOptions,
  type Tensor,
  type TensorMeta,
} from './backend.js';
import type { DType } from '../contract/manifest.js';

/** The part of an onnxruntime package the backend uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: OrtTensor.Type, data: OrtTensor.DataType, dims?: readonly number[]) => OrtTensor;
}

/** Wraps an onnxruntime module as a {@link Backend}. */
export function ortBackend(name: string, ort: OrtModule, defaults: InferenceSession.SessionOptions = {}): Backend {
  return {
    name,
    async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<BackendSession> {
      const sessionOptions: InferenceSession.SessionOptions = { ...defaults };
      if (options.intraOpNumThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
      if (options.externalData && options.externalData.length > 0)
        sessionOptions.externalData = options.externalData.map((f) => ({ path: f.path, data: f.data }));
      const session = await ort.InferenceSession.create(model, sessionOptions);
      const outputMeta = (session as { outputMetadata?: unknown }).outputMetadata;
      const inputs = readMeta(session.inputNames, (session as { inputMetadata?: unknown }).inputMetadata);
      const outputs = readMeta(session.outputNames, outputMeta);
      // onnxruntime's JavaScript API cannot return a sequence or map output and fails the whole
      // run when one is fetched: a run without fetches computes the tensor outputs only.
      const tensorOutputs = Array.isArray(outputMeta)
        ? (outputMeta as { name: string; isTensor?: boolean }[]).filter((m) => m.isTensor !== false).map((m) => m.name)
        : [...session.outputNames];
      const defaultFetches = tensorOutputs.length < session.outputNames.length ? tensorOutputs : undefined;
      return {
        inputs,
        outputs,
        async run(feeds: Record<string, Tensor>, fetches?: readonly string[]) {
          const ortFeeds: Record<string, OrtTensor> = {};
          for (const [k, t] of Object.entries(feeds)) {
            ortFeeds[k] = new ort.Tensor(t.type as OrtTensor.Type, t.data as OrtTensor.DataType, t.dims);
          }
          const names = fetches ?? defaultFetches;
          const result = names ? await session.run(ortFeeds, [...names]) : await session.run(ortFeeds);
          const out: Record<string, Tensor> = {};
          for (const [k, v] of Object.entries(result)) {
            const t = v as OrtTensor;
            out[k] = { type: t.type as DType, data: t.data as Tensor['data'], dims: [...t.dims] };
          }
          return out;
        },
        async release() {
          await session.release();
        },
      };
    },
  };
}

function readMeta(names: readonly string[], meta: unknown): TensorMeta[] {
  if (Array.isArray(meta)) return meta.map((m) => metaFrom(m as Parameters<typeof metaFrom>[0]));
  return names.map((name) => ({ name, dtype: 'unknown', shape: [] }));
}
