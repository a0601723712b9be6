/**
 * The decision log's counters in `/metrics` (read from {@link DecisionLog.stats} when
 * scraped): matches recording, bytes written and on disk, guard decisions recorded,
 * files deleted by the size cap, matches that stopped recording.
 *
 * @module
 */
import { Gauge, type Registry } from 'prom-client';
import type { DecisionLog, DecisionLogStats } from './decision-log-writer.js';

const SERIES: readonly { key: keyof DecisionLogStats; name: string; help: string }[] = [
  { key: 'openMatches', name: 'playmind_decision_log_open_matches', help: 'Arena matches being recorded.' },
  {
    key: 'bytesWritten',
    name: 'playmind_decision_log_bytes_written',
    help: 'Compressed bytes the decision log wrote since the server started (headers included).',
  },
  {
    key: 'rawBytes',
    name: 'playmind_decision_log_raw_bytes',
    help: 'Uncompressed bytes of the frames the decision log wrote.',
  },
  { key: 'bytesOnDisk', name: 'playmind_decision_log_bytes_on_disk', help: 'Bytes of decision-log files on disk.' },
  {
    key: 'guardDecisions',
    name: 'playmind_decision_log_guard_decisions',
    help: 'Guard decisions (one per guard per tick) recorded since the server started.',
  },
  {
    key: 'deletedFiles',
    name: 'playmind_decision_log_deleted_files',
    help: 'Decision-log files deleted to stay under the size cap.',
  },
  {
    key: 'failedMatches',
    name: 'playmind_decision_log_failed_matches',
    help: 'Matches that stopped recording because a write failed or the disk fell behind.',
  },
];

/**
 * Registers the decision log's gauges.
 * @param registry - the server's registry
 * @param log - the decision log
 */
export function registerDecisionLogMetrics(registry: Registry, log: DecisionLog): void {
  for (const s of SERIES) {
    new Gauge({
      name: s.name,
      help: s.help,
      registers: [registry],
      collect() {
        this.set(log.stats()[s.key]);
      },
    });
  }
}
