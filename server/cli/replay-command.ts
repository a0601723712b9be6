/**
 * `playmind replay`: re-simulates an arena match from its decision log, checks every
 * tick's state hash, and — with a model folder — re-decides every logged observation
 * with the logged version and with a candidate (agreement, confusion, and a
 * counterfactual run with the candidate acting). See `server/recording/match-replay.ts`.
 *
 * @example
 * playmind replay data/decision-log/20260101T120000-ab12cd34.0000.pmdl --models ./models --candidate npc-guard@2 --json
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { defineCommand, usageError, type CliIo } from '../../sdk/runtime.js';
import type { Agreement, ReplayReport } from '../recording/match-replay.js';

/** The command's usage text. */
export const REPLAY_USAGE = `Usage: playmind replay <log> [--models <dir>] [--candidate <name@version>] [--json]

Re-simulates an arena match from its decision log (the server's --decision-log folder):
the logged setup, the logged player inputs at their ticks and the logged guard
decisions applied as they were, and checks the state hash of every tick.

  <log>                    a segment file of the match (<dir>/<matchId>.<segment>.pmdl;
                           every segment of the match is read), or a decision-log folder
                           (its most recent match)
  --models <dir>           re-decide every logged observation with the logged model version
                           from this model repository: agreement (1 for an unchanged model
                           on the same machine) and the largest probability difference
  --candidate <name@ver>   also decide every logged observation with this version
                           (needs --models): agreement, a confusion matrix (logged action ×
                           candidate action), and a counterfactual re-simulation with the
                           candidate acting and the recorded player inputs, its guard return
                           and win rate beside the logged run's
  --json                   print the report as JSON (ticks, identicalTicks, agreement, ...)
  -h, --help               this text

Exit codes: 0 every tick identical, 1 a tick differs or the log cannot be replayed,
2 bad arguments.
`;

function fmt(x: number | null, digits = 4): string {
  return x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

function agreementLine(a: Agreement): string {
  return `agreement ${fmt(a.agreement)} (${a.agreed}/${a.compared} guard decisions), largest probability difference ${fmt(a.maxProbabilityDifference, 6)}${a.errors ? `, ${a.errors} failed` : ''}`;
}

/** The report as text. */
export function replayText(r: ReplayReport): string {
  const lines: string[] = [];
  const kib = (r.bytes / 1024).toFixed(1);
  lines.push(
    `match ${r.matchId}: ${r.files.length} file${r.files.length === 1 ? '' : 's'}, ${kib} KiB, ${r.end ? `ended (${r.end.reason}) at tick ${r.end.tick}` : 'no end record (still recording, or cut short)'}`,
  );
  if (r.truncated) lines.push(`  the log ends early: ${r.problem}`);
  lines.push(
    `ticks: ${r.ticks}, identical: ${r.identicalTicks}${r.firstDifference === null ? ' (every state hash matches)' : ` — first difference at tick ${r.firstDifference}`}`,
  );
  const models = Object.entries(r.byModel)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  lines.push(`decisions: ${r.decisions} (${r.guardDecisions} guard decisions: ${models || 'none'})`);
  if (r.shadowDecisions) lines.push(`shadow decisions logged: ${r.shadowDecisions}`);
  const run = (o: ReplayReport['logged']) =>
    `guard return ${fmt(o.guardReturn)}, rounds ${o.rounds}, won by the guards ${o.guardWins} (win rate ${fmt(o.winRate, 3)}), players downed ${o.playerDowns}, guards downed ${o.guardDowns}`;
  lines.push(`logged run: ${run(r.logged)}`);
  if (r.redecided) {
    for (const v of r.redecided.versions) lines.push(`re-decided by ${v.model}: ${agreementLine(v)}`);
    if (r.redecided.versions.length === 0) lines.push('re-decided: no decision of a model version is logged');
  }
  const c = r.candidate;
  if (c) {
    lines.push(`candidate ${c.model}: ${agreementLine(c)}`);
    const w = Math.max(...c.confusion.actions.map((a) => a.length), 6);
    lines.push(`  confusion (rows: logged action, columns: ${c.model})`);
    lines.push(`  ${''.padEnd(w)} ${c.confusion.actions.map((a) => a.padStart(w)).join(' ')}`);
    c.confusion.counts.forEach((row, i) =>
      lines.push(`  ${c.confusion.actions[i]!.padEnd(w)} ${row.map((n) => String(n).padStart(w)).join(' ')}`),
    );
    lines.push(
      `  counterfactual (${c.model} acting, recorded player inputs — the players do not react to it): ${run(c.counterfactual)}${c.counterfactual.skippedInputs ? `; ${c.counterfactual.skippedInputs} recorded inputs refused` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `playmind replay`. */
export const replayCommand = defineCommand({
  name: 'replay',
  summary: 'replay an arena match from its decision log: identical ticks, agreement, a candidate counterfactual',
  usage: REPLAY_USAGE,
  options: {
    models: { type: 'string' },
    candidate: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1, name: '<log>' },
  async run({ values, positionals }, io: CliIo) {
    const { parseVersionRef, replayMatch } = await import('../recording/match-replay.js');
    const { listMatchLogs, readMatchLog } = await import('../recording/decision-log-reader.js');
    const candidate = values.candidate === undefined ? undefined : parseVersionRef(values.candidate);
    if (candidate === null) throw usageError(`--candidate must be <name>@<version>, e.g. npc-guard@2`);
    if (candidate && values.models === undefined) throw usageError('--candidate needs --models <dir>');
    let file = positionals[0]!;
    const s = await stat(file).catch(() => null);
    if (!s) throw new Error(`${file}: no such file or folder`);
    if (s.isDirectory()) {
      const matches = await listMatchLogs(file);
      const newest = matches.find((m) => m.fromStart) ?? matches[0];
      if (!newest) throw new Error(`${file}: no decision-log segment (*.pmdl) in this folder`);
      file = newest.files[0]!;
      if (!values.json)
        io.stderr.write(`playmind replay: the most recent match in ${positionals[0]}: ${newest.matchId}\n`);
    }
    const record = await readMatchLog(file);
    const report = await replayMatch(record, {
      ...(values.models !== undefined ? { modelsDir: values.models } : {}),
      ...(candidate ? { candidate } : {}),
    });
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : replayText(report));
    return report.identicalTicks === report.ticks ? 0 : 1;
  },
});
