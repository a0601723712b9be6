/** The one kind check: a model used as a policy, recommender or tensor model must be one. */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { Manifest, ModelKind } from './manifest.js';

/**
 * Narrows a manifest to a kind.
 * @param model - the name the caller used, for the message
 * @returns the manifest, typed as that kind
 * @throws PlaymindError `wrong_kind` naming the model and its kind
 */
export function expectKind<K extends ModelKind>(model: string, m: Manifest, kind: K): Extract<Manifest, { kind: K }> {
  if (m.kind !== kind) {
    throw new PlaymindError(ErrorCode.WRONG_KIND, `model "${model}" is a ${m.kind}, not a ${kind}`, {
      details: { model, kind: m.kind },
    });
  }
  return m as Extract<Manifest, { kind: K }>;
}
