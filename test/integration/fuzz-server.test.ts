/**
 * Fuzz: seeded random malformed messages at the `inference` room (10,000), the
 * `arena` room (3,000), raw garbage frames, and the HTTP endpoints (1,000), on
 * loopback, bounded in count and time. Then the server must still answer good
 * requests correctly, a well-behaved client running meanwhile must have seen no
 * error, and nothing may have been logged as an error.
 */
import { Client, type Room } from '@colyseus/sdk';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { InferenceEngine } from '../../sdk/engine/inference-engine.js';
import { runPolicy, type Decision, type PolicyVersion } from '../../sdk/engine/policy.js';
import { ArenaMessage, InferenceMessage } from '../../sdk/protocol.js';
import { FsModelSource } from '../../sdk/repository/fs-source.js';
import { ModelRepository, silentLogger } from '../../sdk/repository/model-repository.js';
import { RemoteRoute } from '../../sdk/routes/remote.js';
import { toBytes } from '../../sdk/runtime.js';
import { ArenaSettings } from '../../server/rooms/arena-room.js';
import { expect } from '../helpers/chai.js';
import { tempDir, waitFor } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { prng, startTestServer, type TestServer } from '../helpers/server.js';

const SEED = Number(process.env.PLAYMIND_FUZZ_SEED ?? 20240607);
const INFERENCE_MESSAGES = 10_000;
const ARENA_MESSAGES = 3_000;
const HTTP_REQUESTS = 1_000;
const GARBAGE_FRAMES = 40;
const FEATURES = 4;
const ACTIONS = 3;
const ADMIN = 'fuzz-admin-token';

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function randomString(r: Rand, max = 40): string {
  const n = int(r, 0, max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(r() < 0.9 ? int(r, 32, 126) : int(r, 0, 0xd7ff));
  return s;
}

function randomBytes(r: Rand, max: number): Uint8Array {
  const b = new Uint8Array(int(r, 0, max));
  for (let i = 0; i < b.length; i++) b[i] = int(r, 0, 255);
  return b;
}

const KEYS = [
  'id',
  'model',
  'n',
  'rows',
  'masks',
  'agentIds',
  'feeds',
  'fetches',
  'history',
  'k',
  'exclude',
  'weights',
  'deadlineMs',
  'agent',
  'type',
  'dims',
  'data',
  '__proto__',
  'constructor',
  'dx',
  'dy',
  'attack',
  'questId',
];

/** Any msgpack-able value, nested at most `depth` deep. */
function randomValue(r: Rand, depth = 3): unknown {
  const k = int(r, 0, depth > 0 ? 13 : 10);
  switch (k) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return r() < 0.5;
    case 3:
      return int(r, -5, 5);
    case 4:
      return pick(r, [NaN, Infinity, -Infinity, -0, 2 ** 53, -(2 ** 31), 1e308, 4.2]);
    case 5:
      return r() * 1e6 - 5e5;
    case 6:
      return randomString(r);
    case 7:
      return r() < 0.02 ? 'x'.repeat(20_000) : randomString(r, 5);
    case 8:
      return randomBytes(r, 64);
    case 9:
      return Float32Array.from({ length: int(r, 0, 12) }, () => (r() < 0.1 ? NaN : r()));
    case 10:
      return pick(r, ['guard', 'nope', '', 'quest-recs', '../etc/passwd', 'guard@1']);
    case 11:
      return Array.from({ length: int(r, 0, 6) }, () => randomValue(r, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(r, 0, 6); i > 0; i--) {
        // defineProperty: a '__proto__' key must be an own property, not a prototype change
        Object.defineProperty(o, r() < 0.8 ? pick(r, KEYS) : randomString(r, 8), {
          value: randomValue(r, depth - 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return o;
    }
  }
}

/** A valid request of a type, then mutated so that it is (mostly) wrong. */
function nearlyValid(r: Rand, type: string): Record<string, unknown> {
  const n = int(r, 1, 3);
  const base: Record<string, unknown> = ({
    decide: {
      id: int(r, 0, 1e6),
      model: 'guard',
      n,
      rows: toBytes(Float32Array.from({ length: n * FEATURES }, () => r())),
    },
    run: {
      id: int(r, 0, 1e6),
      model: 'guard',
      feeds: { obs: { type: 'float32', dims: [n, FEATURES], data: toBytes(new Float32Array(n * FEATURES)) } },
    },
    recommend: { id: int(r, 0, 1e6), model: 'guard', history: ['a', 'b'], k: 2 },
    describe: { id: int(r, 0, 1e6), model: 'guard' },
    reset: { model: 'guard', agent: 'a1' },
  }[type] as Record<string, unknown>) ?? { id: 1 };
  const mutations = int(r, 1, 3);
  for (let i = 0; i < mutations; i++) {
    const key = r() < 0.7 ? pick(r, Object.keys(base)) : pick(r, KEYS);
    if (r() < 0.3) delete base[key];
    else if (key === 'feeds' && r() < 0.7)
      base.feeds = {
        obs: {
          type: pick(r, ['float32', 'int64', 'string', 'bogus', 'bool']),
          dims: randomValue(r, 1),
          data: r() < 0.5 ? randomBytes(r, 64) : randomValue(r, 2),
        },
      };
    else if (key === 'n') base.n = pick(r, [0, -1, 1.5, 1e9, n + 1, '2', NaN]);
    else
      Object.defineProperty(base, key, {
        value: randomValue(r, 2),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return base;
}

describe('server: fuzz', function () {
  this.timeout(180_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let repo: ModelRepository;
  let engine: InferenceEngine;
  const rows = Float32Array.from({ length: 2 * FEATURES }, (_, i) => (i % 3) - 1);
  let expected: Decision[];

  before(async () => {
    ({ dir, cleanup } = await tempDir('playmind-fuzz-'));
    await writeModel(
      dir,
      'guard',
      1,
      linearPolicyBytes(FEATURES, ACTIONS, 0.7),
      linearPolicyManifest('guard', FEATURES, ACTIONS),
    );
    t = await startTestServer(
      {
        modelsDir: dir,
        watch: false,
        adminToken: ADMIN,
        maxBodyBytes: 64 * 1024,
        // high limits, so the fuzz reaches the validators (rate limiting has its own test)
        inference: { ratePerSec: 1e6, burst: 1e6, floodRejectsPerSec: 1e6, maxMessageBytes: 256 * 1024 },
      },
      {
        arena: new ArenaSettings({
          guardCount: 4,
          seed: 1,
          rateLimits: { ratePerSec: 1e6, burst: 1e6, floodDropsPerSec: 1e6 },
        }),
      },
    );
    repo = new ModelRepository({ source: new FsModelSource(dir), backend: nodeBackend(), logger: silentLogger });
    await repo.loadAll();
    engine = new InferenceEngine();
    expected = await runPolicy(engine, repo.get('guard') as PolicyVersion, { rows, n: 2 });
  });

  after(async () => {
    await t?.server.close();
    engine?.close();
    await repo?.close();
    await cleanup?.();
  });

  it('survives malformed messages and requests, and still answers good ones correctly', async () => {
    const r = prng(SEED);
    const started = Date.now();

    // A well-behaved client making good requests throughout.
    const observer = new RemoteRoute({ url: t.wsUrl });
    const observerErrors: unknown[] = [];
    let observed = 0;
    let stop = false;
    const observing = (async () => {
      while (!stop) {
        try {
          const d = await observer.decide('guard', { rows, n: 2 });
          if (d.map((x) => x.action).join() !== expected.map((x) => x.action).join())
            observerErrors.push(new Error(`wrong decision ${d.map((x) => x.action).join()}`));
          observed++;
        } catch (err) {
          observerErrors.push(err);
        }
        await new Promise((res) => setTimeout(res, 10));
      }
    })();

    try {
      // 1. the inference room: 10,000 messages over two connections, paced by a sentinel per chunk
      const joinInference = async () => {
        const room = await new Client(t.wsUrl).joinOrCreate('inference');
        room.reconnection.enabled = false;
        return room;
      };
      const fuzzers = [await joinInference(), await joinInference()];
      const replies = { result: 0, error: 0 };
      for (const room of fuzzers) room.onMessage(InferenceMessage.ERROR, () => replies.error++);
      const answers: Promise<void>[] = [];
      const ask = (room: Room, type: string | number, payload: unknown) =>
        answers.push(
          room.request(type, payload, { timeout: 60_000 }).then(
            () => void replies.result++,
            () => void replies.error++,
          ),
        );
      const CHUNK = 250;
      let sent = 0;
      for (let chunk = 0; sent < INFERENCE_MESSAGES; chunk++) {
        for (let i = 0; i < CHUNK && sent < INFERENCE_MESSAGES; i++, sent++) {
          const room = fuzzers[sent % fuzzers.length]!;
          const known = ['decide', 'run', 'recommend', 'describe', 'reset'];
          const roll = r();
          if (roll < 0.1)
            room.send(pick(r, known), nearlyValid(r, pick(r, known))); // not a request: a notice
          else if (roll < 0.55) ask(room, pick(r, known), nearlyValid(r, pick(r, known)));
          else if (roll < 0.8) ask(room, pick(r, known), randomValue(r, 3));
          else if (roll < 0.9) ask(room, r() < 0.5 ? randomString(r, 12) || 'x' : int(r, 0, 255), randomValue(r, 2));
          else if (roll < 0.9995) room.send(r() < 0.5 ? randomString(r, 12) || 'x' : int(r, 0, 255), randomValue(r, 2));
          else ask(room, 'decide', { model: 'guard', n: 1, rows: new Uint8Array(300 * 1024) }); // over the message cap
        }
        // A sentinel per chunk paces the fuzz: the connection still answers a good request.
        const sentinel = (await fuzzers[chunk % fuzzers.length]!.request(
          'describe',
          { model: 'guard' },
          { timeout: 20_000 },
        )) as { manifest?: { name?: string } };
        expect(sentinel.manifest?.name, `sentinel ${chunk} of the inference fuzz`).to.equal('guard');
      }
      await Promise.all(answers);
      expect(replies.error).to.be.greaterThan(INFERENCE_MESSAGES / 2);
      await Promise.all(fuzzers.map((f) => f.leave()));

      // 2. raw garbage frames (a client sending them may be dropped; it is not the server's problem)
      for (let i = 0; i < GARBAGE_FRAMES; i++) {
        const room = await joinInference();
        room.onMessage('*', () => undefined);
        const bytes = randomBytes(r, 200);
        if (bytes.length > 0) bytes[0] = int(r, 0, 32);
        room.connection.send(bytes);
        room.connection.send(randomBytes(r, 50));
        await room.leave().catch(() => undefined);
      }

      // 3. the arena room, when it is defined
      const arenaErrors = { count: 0 };
      let arena: Room | undefined = await new Client(t.wsUrl).joinOrCreate('arena');
      arena.reconnection.enabled = false;
      const sentinel = { last: '' };
      const wire = (room: Room) => {
        room.onMessage(ArenaMessage.ERROR, (e: { details?: { type?: string } }) => {
          arenaErrors.count++;
          if (e?.details?.type) sentinel.last = e.details.type;
        });
        room.onMessage('*', () => undefined);
        room.onLeave(() => {
          if (arena === room) arena = undefined;
        });
      };
      wire(arena);
      const arenaTypes = [
        ArenaMessage.INPUT,
        ArenaMessage.TAKE_QUEST,
        ArenaMessage.FINISH_QUEST,
        ArenaMessage.RECOMMENDATIONS,
      ];
      for (let sentArena = 0, chunk = 0; sentArena < ARENA_MESSAGES; chunk++) {
        if (!arena) {
          arena = await new Client(t.wsUrl).joinOrCreate('arena');
          arena.reconnection.enabled = false;
          wire(arena);
        }
        for (let i = 0; i < 200 && sentArena < ARENA_MESSAGES; i++, sentArena++) {
          const roll = r();
          if (roll < 0.6) arena.send(pick(r, arenaTypes), randomValue(r, 3));
          else if (roll < 0.8)
            arena.send(ArenaMessage.INPUT, { dx: randomValue(r, 1), dy: randomValue(r, 1), attack: randomValue(r, 1) });
          else arena.send(randomString(r, 10) || 'y', randomValue(r, 2));
        }
        const mark = `sentinel-${chunk}`;
        arena.send(mark, {});
        await waitFor(() => sentinel.last === mark || !arena, 20_000, `sentinel ${chunk} of the arena fuzz`);
      }
      expect(arenaErrors.count).to.be.greaterThan(0);
      await arena?.leave();

      // 4. HTTP endpoints
      const paths = [
        () => `/v2/models/${pick(r, ['guard', 'nope', '..', '%2e%2e', encodeURIComponent(randomString(r, 10))])}/infer`,
        () => `/v2/models/${pick(r, ['guard', 'x'])}/versions/${pick(r, ['1', '2', '-1', 'abc'])}/infer`,
        () => `/v2/models/${pick(r, ['guard', 'nope', encodeURIComponent(randomString(r, 10))])}`,
        () => `/v2/models/${pick(r, ['guard', 'nope'])}/ready`,
        () =>
          `/v2/repository/models/${pick(r, ['guard', 'nope', '..', encodeURIComponent(randomString(r, 8))])}/${pick(r, ['load', 'unload'])}`,
        () =>
          pick(r, [
            '/v2/health/ready',
            '/v2/health/live',
            '/v2',
            '/metrics',
            '/models/index.json',
            '/',
            '/v2/repository/index',
          ]),
        () =>
          `/models/${pick(r, ['guard', '..', '%2e%2e%2f', 'nope'])}/${pick(r, ['manifest.json', '1/model.onnx', '../../etc/passwd', '%00'])}`,
        () => `/${encodeURIComponent(randomString(r, 30))}`,
        () => pick(r, ['/%E0%A4%A', '/v2/models/%', `/${'a'.repeat(5000)}`]),
      ];
      const bodies = [
        () => JSON.stringify(randomValue(r, 4)),
        () =>
          JSON.stringify({
            inputs: [
              {
                name: pick(r, ['obs', 'x']),
                shape: randomValue(r, 1),
                datatype: pick(r, ['FP32', 'INT64', 'BYTES', 'BOOL', 'FP16', 'nope']),
                data: randomValue(r, 3),
              },
            ],
            outputs: randomValue(r, 2),
            id: randomValue(r, 1),
          }),
        () =>
          JSON.stringify({
            inputs: [
              {
                name: 'obs',
                shape: [1, FEATURES],
                datatype: 'FP32',
                data: Array.from({ length: FEATURES }, () => randomValue(r, 0)),
              },
            ],
          }),
        () => randomString(r, 200),
        () => '{"inputs": [' + '['.repeat(int(r, 1, 3000)),
        () => JSON.stringify({ inputs: [{ name: 'obs', shape: [1, 1e6], datatype: 'FP32', data: [] }] }),
        () => 'x'.repeat(int(r, 60_000, 80_000)),
      ];
      const statuses: number[] = [];
      const bad5xx: string[] = [];
      const one = async () => {
        const path = pick(r, paths)();
        const method = pick(r, ['GET', 'POST', 'POST', 'PUT', 'DELETE']);
        const headers: Record<string, string> = {};
        if (r() < 0.8)
          headers['content-type'] = pick(r, [
            'application/json',
            'text/plain',
            'application/json; charset=utf-16',
            'multipart/form-data',
          ]);
        if (r() < 0.3) headers.authorization = pick(r, [`Bearer ${ADMIN}`, 'Bearer nope', 'Basic abc', 'Bearer']);
        // the admin may load anything, but unloading the model the observer uses is not an attack
        if (path.endsWith('/unload') && headers.authorization === `Bearer ${ADMIN}`)
          headers.authorization = 'Bearer nope';
        const body = method === 'GET' ? undefined : pick(r, bodies)();
        const res = await fetch(`${t.server.url}${path}`, { method, headers, body }).catch((err: Error) => ({
          status: -1,
          text: async () => err.message,
        }));
        statuses.push(res.status);
        const text = await res.text();
        if (res.status >= 500 || res.status < 0)
          bad5xx.push(`${method} ${path.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`);
      };
      for (let i = 0; i < HTTP_REQUESTS; i += 4) await Promise.all([one(), one(), one(), one()]);
      expect(
        bad5xx.filter((s) => !/→ 503 /.test(s)),
        bad5xx.join('\n'),
      ).to.deep.equal([]);
      expect(statuses.filter((s) => s >= 400).length).to.be.greaterThan(HTTP_REQUESTS / 4);
    } finally {
      stop = true;
      await observing;
      await observer.close();
    }

    // Good requests are still answered correctly, by the room and by KServe.
    const fresh = new RemoteRoute({ url: t.wsUrl });
    try {
      const d = await fresh.decide('guard', { rows, n: 2 });
      expect(d.map((x) => x.action)).to.deep.equal(expected.map((x) => x.action));
      expect([...d[0]!.probabilities!]).to.deep.equal([...expected[0]!.probabilities!]);
    } finally {
      await fresh.close();
    }
    const res = await fetch(`${t.server.url}/v2/models/guard/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'obs', shape: [2, FEATURES], datatype: 'FP32', data: [...rows] }] }),
    });
    expect(res.status).to.equal(200);
    const logits = ((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    const direct = await engine.run(repo.get('guard')!, { obs: { type: 'float32', data: rows, dims: [2, FEATURES] } });
    expect(logits).to.deep.equal([...(direct.outputs.logits!.data as Float32Array)]);
    expect((await fetch(`${t.server.url}/v2/health/ready`)).status).to.equal(200);

    expect(observed).to.be.greaterThan(10);
    expect(observerErrors.map(String)).to.deep.equal([]);
    // Colyseus itself logs the garbage frames it could not decode (and drops those clients); nothing else may log an error.
    const text = (l: (typeof t.logs)[number]) => `${l.msg ?? ''} ${JSON.stringify(l.err ?? '')}`;
    const undecodable = (l: (typeof t.logs)[number]) =>
      l.component === 'colyseus' && /unpack|utf8Read|decode/.test(text(l));
    expect(
      t
        .errors()
        .filter((l) => !undecodable(l))
        .map((l) => text(l).slice(0, 300)),
    ).to.deep.equal([]);
    console.log(
      `    fuzz: seed ${SEED}, ${INFERENCE_MESSAGES} inference + ${ARENA_MESSAGES} arena messages, ${GARBAGE_FRAMES} garbage frames, ${HTTP_REQUESTS} HTTP requests in ${Date.now() - started} ms; observer made ${observed} good requests`,
    );
  });
});
