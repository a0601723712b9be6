/**
 * Checks a manifest's declared inputs and outputs against what a loaded session
 * says of itself: every declared tensor exists, with the same dtype, rank and
 * fixed dimensions; every session input is declared (the engine must feed it).
 */
import type { TensorMeta } from '../engine/backend.js';
import type { Manifest, TensorSpec } from './manifest.js';

/**
 * @returns one line per problem; empty when the model fits its manifest
 */
export function checkSessionAgainstManifest(
  manifest: Manifest,
  session: { inputs: readonly TensorMeta[]; outputs: readonly TensorMeta[] },
): string[] {
  const problems: string[] = [];
  compare('input', manifest.inputs, session.inputs, problems);
  compare('output', manifest.outputs, session.outputs, problems);
  const declared = new Set(manifest.inputs.map((t) => t.name));
  for (const m of session.inputs) {
    if (!declared.has(m.name)) problems.push(`the model takes input "${m.name}" that the manifest does not declare`);
  }
  return problems;
}

function compare(
  what: 'input' | 'output',
  specs: readonly TensorSpec[],
  metas: readonly TensorMeta[],
  problems: string[],
): void {
  const byName = new Map(metas.map((m) => [m.name, m]));
  for (const spec of specs) {
    const meta = byName.get(spec.name);
    if (!meta) {
      const have = metas.map((m) => m.name).join(', ');
      problems.push(`${what} "${spec.name}" is declared but the model has no such ${what} (it has: ${have})`);
      continue;
    }
    if (meta.dtype !== 'unknown' && meta.dtype !== spec.dtype) {
      problems.push(`${what} "${spec.name}": manifest says ${spec.dtype}, the model says ${meta.dtype}`);
    }
    if (meta.shape.length === 0 && meta.dtype === 'unknown') continue; // the runtime gave no shape information
    if (meta.shape.length !== spec.shape.length) {
      problems.push(
        `${what} "${spec.name}": manifest says rank ${spec.shape.length} [${spec.shape.join(', ')}], the model says rank ${meta.shape.length} [${meta.shape.join(', ')}]`,
      );
      continue;
    }
    spec.shape.forEach((d, i) => {
      const actual = meta.shape[i];
      const actualFixed = typeof actual === 'number' && actual >= 0;
      // A fixed dim in the manifest must be the model's fixed dim; a dynamic one (-1) takes anything
      // on outputs, but on inputs a dynamic manifest dim over a fixed model dim would let callers feed
      // sizes the model refuses.
      if (d >= 0 && actualFixed && actual !== d) {
        problems.push(`${what} "${spec.name}" dim ${i}: manifest says ${d}, the model says ${actual}`);
      } else if (what === 'input' && d < 0 && actualFixed) {
        problems.push(`${what} "${spec.name}" dim ${i}: manifest says dynamic, the model fixes it at ${actual}`);
      }
    });
  }
}
