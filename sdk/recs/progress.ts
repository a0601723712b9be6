/**
 * Progress of long training steps: the contract every trainer reports through, a
 * silent implementation, and percentage lines on a stream (every 10 %, at most one per
 * 2 s). Dependency-free, so the installed CLI can use it; the repository's training
 * scripts draw a terminal bar on top of the same contract (`models/train/progress.ts`).
 *
 * @module
 */

/** One step being tracked. */
export interface ProgressTask {
  /** Reports `done` out of the total; `total` revises the total, `status` is shown beside it. */
  update(done: number, info?: { total?: number; status?: string }): void;
  /** Ends the step. */
  stop(): void;
}

/** Starts tracking a step of `total` units. */
export type ProgressFactory = (label: string, total: number) => ProgressTask;

/** Shows nothing. */
export const silentProgress: ProgressFactory = () => ({ update() {}, stop() {} });

/** The part of a writable stream progress lines need. */
export interface LineSink {
  write(line: string): unknown;
}

/**
 * Progress as lines on a stream: `label: 30%` at each new tenth (at most one line per
 * `intervalMs`), then `label: done in 1.2 s`.
 *
 * @param stream - where to write
 * @param intervalMs - the least time between two percentage lines @default 2000
 * @returns a progress factory
 * @example await trainRecsPipeline({ ...options, progress: lineProgress(process.stderr) });
 */
export function lineProgress(stream: LineSink, intervalMs = 2000): ProgressFactory {
  return (label, total) => {
    const started = Date.now();
    let size = Math.max(1, total);
    let shown = 0;
    let last = started;
    return {
      update(done, info) {
        if (info?.total !== undefined) size = Math.max(1, info.total);
        const decile = Math.floor((10 * Math.min(done, size)) / size);
        const now = Date.now();
        if (decile > shown && decile < 10 && now - last >= intervalMs) {
          shown = decile;
          last = now;
          stream.write(`${label}: ${decile * 10}%${info?.status ? ` ${info.status}` : ''}\n`);
        }
      },
      stop() {
        stream.write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      },
    };
  };
}
