/**
 * Progress of long training steps, on stderr: a cli-progress bar on a terminal,
 * percentage lines (every 10 %, at most one per 2 s) otherwise, nothing when
 * silenced. Shared by every training pipeline.
 *
 * @module
 */
import cliProgress from 'cli-progress';

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

/**
 * Progress on a stream.
 *
 * @param stream - where to write @default process.stderr
 * @param tty - draw a bar @default whether the stream is a terminal
 * @returns a progress factory
 */
export function streamProgress(
  stream: NodeJS.WriteStream = process.stderr,
  tty = Boolean(stream.isTTY),
): ProgressFactory {
  return (label, total) => {
    const started = Date.now();
    let size = Math.max(1, total);
    if (tty) {
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label.padEnd(26)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} {status}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(size, 0, { status: '' });
      return {
        update(done, info) {
          if (info?.total !== undefined) bar.setTotal(Math.max(1, info.total));
          bar.update(done, { status: info?.status ?? '' });
        },
        stop: () => bar.stop(),
      };
    }
    let shown = 0;
    let last = started;
    return {
      update(done, info) {
        if (info?.total !== undefined) size = Math.max(1, info.total);
        const decile = Math.floor((10 * Math.min(done, size)) / size);
        const now = Date.now();
        if (decile > shown && decile < 10 && now - last >= 2000) {
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
