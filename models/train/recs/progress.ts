/**
 * Progress for long training steps, on stderr: a cli-progress bar on a terminal,
 * percentage lines (every 10 %) otherwise, nothing when silenced.
 */
import cliProgress from 'cli-progress';

/** One step being tracked. */
export interface ProgressTask {
  /** Reports `done` out of the total (the total may be revised). */
  update(done: number, total?: number): void;
  /** Ends the step. */
  stop(): void;
}

/** Starts tracking a step. */
export type ProgressFactory = (label: string, total: number) => ProgressTask;

/** A factory that shows nothing. */
export const silentProgress: ProgressFactory = () => ({ update() {}, stop() {} });

/**
 * Progress on a stream (stderr by default).
 * @param stream - where to write
 * @param tty - draw a bar (default: whether the stream is a terminal)
 */
export function streamProgress(stream: NodeJS.WriteStream = process.stderr, tty = Boolean(stream.isTTY)): ProgressFactory {
  return (label, total) => {
    const started = Date.now();
    if (tty) {
      const bar = new cliProgress.SingleBar(
        { stream, format: `${label.padEnd(24)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(1, total), 0);
      return {
        update(done, t) {
          if (t !== undefined) bar.setTotal(Math.max(1, t));
          bar.update(done);
        },
        stop() {
          bar.stop();
        },
      };
    }
    // Not a terminal: a line per 10 %, at most one every 2 s (quick steps print only "done").
    let shown = 0;
    let last = started;
    let size = Math.max(1, total);
    return {
      update(done, t) {
        if (t !== undefined) size = Math.max(1, t);
        const decile = Math.floor((10 * Math.min(done, size)) / size);
        const now = Date.now();
        if (decile > shown && decile < 10 && now - last >= 2000) {
          shown = decile;
          last = now;
          stream.write(`${label}: ${decile * 10}%\n`);
        }
      },
      stop() {
        stream.write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      },
    };
  };
}
