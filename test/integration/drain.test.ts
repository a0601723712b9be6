/**
 * Drain on SIGTERM, against a real server in a child process (`node --import tsx
 * server/main.ts`): readiness answers 503 for `--drain-grace-ms` while everything is still
 * served; then the listener closes, new inference-room requests are refused typed
 * (`unavailable`, `details.draining`), and every call in flight when the drain started —
 * inference-room `decide`s and KServe infers — is answered; then the process exits 0.
 *
 * Calls are kept in flight deterministically: the model's manifest holds each batch in the
 * engine's queue for seconds (`batching.maxQueueDelayMs`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client, type Room } from '@colyseus/sdk';
import { ErrorCode, InferenceMessage, RoomName } from '../../sdk/protocol.js';
import { Admission } from '../../server/inference/admission.js';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { collectLogs } from '../helpers/server.js';

const F = 4;
const A = 3;
const QUEUE_DELAY_MS = 6000;
const GRACE_MS = 1500;

async function until<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('drain on SIGTERM (a real server in a child process)', function () {
  this.timeout(90_000);
  let child: ChildProcess | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  let room: Room | undefined;

  after(async () => {
    // (A room the server closed does not answer a leave: bounded.)
    if (room) await Promise.race([room.leave(true).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cleanup?.();
  });

  it('answers readiness 503 during the grace, answers every call in flight, refuses new ones typed, exits 0', async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir('playmind-drain-'));
    const models = join(dir, 'models');
    await writeModel(
      models,
      'slow',
      1,
      linearPolicyBytes(F, A),
      linearPolicyManifest('slow', F, A, { batching: { maxQueueDelayMs: QUEUE_DELAY_MS, maxBatchSize: 4096 } }),
    );
    const args = [
      '--import',
      'tsx',
      join(REPO_ROOT, 'server', 'main.ts'),
      ...['--port', '0', '--host', '127.0.0.1', '--models', models, '--no-watch'],
      ...['--demo', join(dir, 'no-demo'), '--telemetry', join(dir, 'telemetry.jsonl')],
      ...['--drain-grace-ms', String(GRACE_MS), '--drain-timeout-ms', '30000', '--max-deadline-ms', '30000'],
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
    delete env.PORT;
    delete env.REDIS_URL;
    const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const { logs, stderr } = collectLogs(proc);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const listening = await until(
      "the server's 'playmind server listening' line",
      () => {
        if (proc.exitCode !== null) throw new Error(`server exited early:\n${stderr.join('')}`);
        return logs.find((l) => l.msg === 'playmind server listening');
      },
      30_000,
    );
    const url = `http://127.0.0.1:${listening.port as number}`;
    const ready = async () => (await fetch(`${url}/v2/health/ready`)).status;
    expect(await ready()).to.equal(200);

    // In flight: 3 decides over one inference-room client, 2 KServe infers.
    room = await new Client(url).joinOrCreate(RoomName.INFERENCE);
    let closeCode: number | undefined;
    room.onLeave((code) => (closeCode = code));
    const row = () => new Uint8Array(Float32Array.from({ length: F }, (_, i) => 0.1 * (i + 1)).buffer);
    const decide = (r: Room) =>
      r.request(InferenceMessage.DECIDE, { model: 'slow', n: 1, rows: row() }).then(
        (reply: unknown) => ({ ok: true as const, reply: reply as { decisions: unknown[] } }),
        // A deliberate rejection carries the typed wire error as `reason`.
        (err: { reason?: { code?: string; message?: string }; message?: string }) => ({
          ok: false as const,
          err: err.reason ?? { message: err.message },
        }),
      );
    const decides = [decide(room), decide(room), decide(room)];
    const infer = () =>
      fetch(`${url}/v2/models/slow/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, F], data: [0.1, 0.2, 0.3, 0.4] }],
        }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
    const infers = [infer(), infer()];
    // Every one of them waits in the engine's queue (5 rows).
    await until(
      'the 5 calls to be queued in the engine',
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const m = /^playmind_inference_queue_rows\{model="slow@1"\} (\d+)/m.exec(text);
        return m && Number(m[1]) >= 5 ? true : undefined;
      },
      15_000,
    );

    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    // The grace: readiness 503, everything else still served.
    await until('readiness to answer 503', async () => ((await ready()) === 503 ? true : undefined), 5000);
    const live = await fetch(`${url}/v2/health/live`);
    expect(live.status).to.equal(200);
    // After the grace the listener closes: a new connection is refused.
    await until(
      'the listener to close after the grace',
      async () => {
        try {
          await fetch(`${url}/v2/health/live`, { signal: AbortSignal.timeout(2000) });
          return undefined;
        } catch {
          return true;
        }
      },
      20_000,
    );
    expect(Date.now() - signalledAt, 'the listener stayed open for the grace').to.be.at.least(GRACE_MS - 100);
    // A new request over the open inference-room connection is refused typed (while the others are in flight).
    const late = await decide(room);
    expect(late.ok).to.equal(false);
    if (!late.ok) {
      expect(late.err.code).to.equal(ErrorCode.UNAVAILABLE);
      expect(late.err.message).to.match(/draining/);
    }

    // Every call in flight is answered: decisions and 200s, not `unavailable`.
    const answered = await Promise.all(decides);
    for (const a of answered) {
      expect(a.ok, `decide in flight: ${JSON.stringify(a)}`).to.equal(true);
      if (a.ok) expect(a.reply.decisions).to.have.length(1);
    }
    for (const r of await Promise.all(infers)) {
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.model_name).to.equal('slow');
    }
    const { code, signal } = await exit;
    expect({ code, signal }, stderr.join('')).to.deep.equal({ code: 0, signal: null });
    expect(closeCode, 'the room closed with SERVER_SHUTDOWN after answering').to.equal(4001);
    expect(logs.filter((l) => l.level >= 50)).to.deep.equal([]);
  });

  it('refuses new inference requests typed once draining (admission control)', () => {
    const admission = new Admission({ maxInflight: 10, maxInflightPerClient: 5 });
    const held = admission.admit('127.0.0.1');
    expect(held).to.have.property('release');
    admission.drain();
    const refused = admission.admit('127.0.0.1');
    expect(refused).to.deep.equal({ refused: 'draining' });
    const err = admission.error('draining');
    expect(err.code).to.equal(ErrorCode.UNAVAILABLE);
    expect(err.details).to.include({ draining: true });
  });
});
