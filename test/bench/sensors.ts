/**
 * Multi-sensor policies (issue 13, "Benchmark"): `decide()` with observations given per
 * sensor (objects keyed by observation input, `{ obs_0, obs_1 }`) against the same
 * observations as flat rows, on the real ML-Agents PushBlock export (`obs_0 [105]` +
 * `obs_1 [105]`, ../shared/compat) and a Sorter-like policy written with onnx-proto whose
 * `obs_0 [20, 23]` is given as nested arrays (`number[20][23]`) beside two vector sensors.
 *
 *   npm run bench -- sensors
 *
 * Per variant: sequential `decide()` calls of `batch` agents for BENCH_REP_MS (default 300)
 * ms, this process's CPU µs per agent (`process.cpuUsage`, so other processes on a shared
 * machine do not count) and wall µs per agent; median of BENCH_REPS interleaved repetitions.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBrain, silentLogger } from '../../sdk/index.js';
import { importModel } from '../../sdk/cli/import.js';
import { encodeObservations, type Observation } from '../../sdk/contract/observation.js';
import { COMPAT_DIR, tempDir } from '../helpers/compat.js';
import { mlAgentsPolicyBytes, nestedAs, seededValues, SORTER_LIKE } from '../helpers/mlagents-graphs.js';
import { cpuInterleaved } from './engine.js';
import type { BenchContext, BenchTable } from './table.js';

const REP_MS = Number(process.env.BENCH_REP_MS) > 0 ? Number(process.env.BENCH_REP_MS) : 300;

const PUSHBLOCK_SENSORS = [
  { name: 'obs_0', shape: [105] },
  { name: 'obs_1', shape: [105] },
];

export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  const { dir, cleanup } = await tempDir('playmind-bench-sensors-');
  try {
    const models = join(dir, 'models');
    const cases: { model: string; label: string; sensors: { name: string; shape: number[] }[] }[] = [];
    if (COMPAT_DIR) {
      await importModel(join(COMPAT_DIR, 'mlagents', 'PushBlock.onnx'), { into: models });
      cases.push({
        model: 'PushBlock',
        label: 'PushBlock (real, obs_0 [105] + obs_1 [105])',
        sensors: PUSHBLOCK_SENSORS,
      });
    } else ctx.log('compat folder absent: PushBlock row left out');
    await writeFile(join(dir, 'sorter.onnx'), mlAgentsPolicyBytes(SORTER_LIKE));
    await importModel(join(dir, 'sorter.onnx'), { into: models });
    cases.push({
      model: 'sorter',
      label: 'Sorter-like (obs_0 [20, 23] nested, obs_1 [10], obs_2 [8])',
      sensors: SORTER_LIKE.obs,
    });
    const brain = await createBrain({ mode: 'local', models, logger: silentLogger });
    const out: string[][] = [];
    try {
      for (const c of cases) {
        const width = c.sensors.reduce((s, o) => s + o.shape.reduce((a, b) => a * b, 1), 0);
        const policy = brain.policy(c.model);
        for (const batch of [1, 32]) {
          ctx.log(`${c.model}: decide() of ${batch}, per-sensor objects vs flat rows`);
          const flat = Array.from({ length: batch }, (_, i) => seededValues(width, i + 1));
          const perSensor = flat.map((row) => {
            const o: Record<string, unknown> = {};
            let off = 0;
            for (const s of c.sensors) {
              const w = s.shape.reduce((a, b) => a * b, 1);
              o[s.name] = s.shape.length > 1 ? nestedAs(row.subarray(off, off + w), s.shape) : row.slice(off, off + w);
              off += w;
            }
            return o as Record<string, Float32Array>;
          });
          const same = (await policy.decide(flat)).map((d) => d.indices!.join());
          const viaSensors = (await policy.decide(perSensor)).map((d) => d.indices!.join());
          if (same.join('|') !== viaSensors.join('|'))
            throw new Error(`${c.model}: per-sensor and flat decisions differ`);
          const r = await cpuInterleaved(
            { flat: () => policy.decide(flat), sensors: () => policy.decide(perSensor) },
            batch,
            ctx.repetitions,
            REP_MS,
          );
          // The SDK's own share: encoding the observations into rows, without inference.
          const manifest = await policy.manifest();
          const encode = (obs: readonly Observation[]) => () =>
            Promise.resolve(encodeObservations(c.model, manifest, obs));
          const e = await cpuInterleaved(
            { flat: encode(flat), sensors: encode(perSensor) },
            batch,
            ctx.repetitions,
            REP_MS,
          );
          out.push([
            c.label,
            String(batch),
            r.flat!.wall.toFixed(1),
            r.sensors!.wall.toFixed(1),
            r.flat!.cpu.toFixed(1),
            r.sensors!.cpu.toFixed(1),
            e.flat!.cpu.toFixed(2),
            e.sensors!.cpu.toFixed(2),
          ]);
        }
      }
    } finally {
      await brain.close();
    }
    return [
      {
        title: '`decide()` on multi-sensor policies: observations per sensor vs flat rows',
        columns: [
          'policy',
          'agents per call',
          'decide() flat wall µs/agent',
          'decide() per-sensor wall µs/agent',
          'decide() flat CPU µs/agent',
          'decide() per-sensor CPU µs/agent',
          'encode flat CPU µs/agent',
          'encode per-sensor CPU µs/agent',
        ],
        rows: out,
        notes: [
          `Sequential \`decide()\` calls through a local brain (onnxruntime-node, main thread), inference included. "flat": each agent a Float32Array row (the sensors concatenated); "per-sensor": each agent an object keyed by observation input (PushBlock: Float32Arrays; Sorter-like: obs_0 as number[20][23], the others Float32Arrays), written into the same rows by the SDK. Both give the same decisions (checked first). "encode": the SDK's own share, \`encodeObservations\` of the same observations into rows without inference. CPU time of this process (process.cpuUsage; it includes onnxruntime's own threads, so on a loaded machine the decide() columns swing more than the encode ones), median of ${ctx.repetitions} interleaved repetitions of ${REP_MS} ms after a warm-up.`,
        ],
      },
    ];
  } finally {
    await cleanup();
  }
}
