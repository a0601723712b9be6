/**
 * Progress of the repository's training scripts on stderr: a cli-progress bar on a
 * terminal, the SDK's percentage lines otherwise, nothing when silenced. The contract
 * and the line output live in the SDK (`sdk/recs/progress.ts`), which the installed
 * `playmind train-recs` uses without this devDependency.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { lineProgress, type ProgressFactory } from '../../sdk/recs/progress.js';

export { silentProgress } from '../../sdk/recs/progress.js';
export type { ProgressFactory, ProgressTask } from '../../sdk/recs/progress.js';

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
  if (!tty) return lineProgress(stream);
  return (label, total) => {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label.padEnd(26)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} {status}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, total), 0, { status: '' });
    return {
      update(done, info) {
        if (info?.total !== undefined) bar.setTotal(Math.max(1, info.total));
        bar.update(done, { status: info?.status ?? '' });
      },
      stop: () => bar.stop(),
    };
  };
}
