/**
 * The README's Unity (C#) and Godot (GDScript) snippets for decide-over-REST, checked
 * without either engine: the test reads each snippet from README.md, takes from its
 * text what it sends (method, path, its headers, the body it builds and how it formats
 * numbers), writes exactly those bytes — with the headers the engine adds by itself, in
 * the engine's order (Godot: `HTTPClientTCP::request` and `HTTPRequest`; Unity: the
 * headers its `UnityWebRequest` documentation says it sets) — to a real server over a
 * plain TCP socket, decodes the reply as the snippet does, and compares the action with
 * the SDK's `decide()` on the same observation.
 */
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import { createBrain, silentLogger, type Brain } from '../../sdk/index.js';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT } from '../helpers/compat.js';
import { prng, startTestServer, type TestServer } from '../helpers/server.js';

const MODELS = join(REPO_ROOT, 'models');

/** What a snippet sends and how it reads the answer, as its source text says. */
interface Snippet {
  method: string;
  path: string;
  /** Headers the snippet sets, as `Name: value`. */
  headers: string[];
  bodyPrefix: string;
  bodySuffix: string;
  /** Digits after the point of each number it writes. */
  decimals: number;
  actions: string[];
}

/** The fenced block of `lang` in the README section on other engines. */
function codeBlock(readme: string, lang: string): string {
  const section = readme.slice(readme.indexOf('### Other engines'));
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(section);
  if (!m) throw new Error(`README: no \`\`\`${lang} block in "Other engines"`);
  return m[1]!;
}

function must(re: RegExp, text: string, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`snippet: cannot find ${what} (${re})`);
  return m;
}

const unescapeCs = (s: string) => s.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
const stringList = (s: string) => [...s.matchAll(/"([^"]*)"/g)].map((x) => x[1]!);

function unitySnippet(code: string): Snippet {
  const body = must(
    /string body = "((?:[^"\\]|\\.)*)"\s*\+ string\.Join\(",", data\) \+ "((?:[^"\\]|\\.)*)";/,
    code,
    'the body',
  );
  return {
    method: must(/new UnityWebRequest\(server \+ "[^"]+", "(\w+)"\)/, code, 'the method')[1]!,
    path: must(/new UnityWebRequest\(server \+ "([^"]+)"/, code, 'the path')[1]!,
    headers: [...code.matchAll(/SetRequestHeader\("([^"]+)", "([^"]+)"\)/g)].map((m) => `${m[1]}: ${m[2]}`),
    bodyPrefix: unescapeCs(body[1]!),
    bodySuffix: unescapeCs(body[2]!),
    decimals: Number(must(/\.ToString\("F(\d+)", CultureInfo\.InvariantCulture\)/, code, 'the number format')[1]),
    actions: stringList(must(/Actions = \{([^}]*)\}/, code, 'the action names')[1]!),
  };
}

function godotSnippet(code: string): Snippet {
  const body = must(/var body := '([^']*)' \+ ",".join\(data\) \+ '([^']*)'/, code, 'the body');
  const request = must(
    /http\.request\(server \+ "([^"]+)", \[([^\]]*)\], HTTPClient\.METHOD_(\w+), body\)/,
    code,
    'the request',
  );
  return {
    method: request[3]!,
    path: request[1]!,
    headers: stringList(request[2]!),
    bodyPrefix: body[1]!,
    bodySuffix: body[2]!,
    decimals: Number(must(/data\.append\("%\.(\d+)f" % v\)/, code, 'the number format')[1]),
    actions: stringList(must(/const ACTIONS := \[([^\]]*)\]/, code, 'the action names')[1]!),
  };
}

/**
 * The body the snippet builds for `obs`. C# `ToString("F6", InvariantCulture)` and
 * GDScript `"%.6f" % v` print the value rounded to 6 decimals; so does `toFixed(6)` for
 * the observations used here (multiples of 0.001: no ties).
 */
const bodyOf = (s: Snippet, obs: Float32Array) =>
  s.bodyPrefix + Array.from(obs, (v) => v.toFixed(s.decimals)).join(',') + s.bodySuffix;

/** The request bytes each engine writes for a snippet. */
const ENGINES = {
  unity: (s: Snippet, host: string, body: Buffer) =>
    [
      `${s.method} ${s.path} HTTP/1.1`,
      `Host: ${host}`,
      'User-Agent: UnityPlayer/2022.3.21f1 (UnityWebRequest/1.0, libcurl/8.5.0-DEV)',
      'Accept: */*',
      'Accept-Encoding: deflate, gzip',
      ...s.headers,
      'X-Unity-Version: 2022.3.21f1',
      `Content-Length: ${body.byteLength}`,
    ].join('\r\n'),
  godot: (s: Snippet, host: string, body: Buffer) =>
    [
      `${s.method} ${s.path} HTTP/1.1`,
      ...s.headers,
      'Accept-Encoding: gzip, deflate', // HTTPRequest (accept_gzip, the default)
      `Host: ${host}`, // HTTPClientTCP::request, in this order
      `Content-Length: ${body.byteLength}`,
      'User-Agent: GodotEngine/4.3.stable.official (Linux)',
      'Accept: */*',
    ].join('\r\n'),
} as const;

/** Writes raw bytes to the server and reads one HTTP/1.1 response (Content-Length or chunked). */
function exchange(
  port: number,
  bytes: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no complete response within 10 s'));
    }, 10_000);
    const done = (r: { status: number; headers: Record<string, string>; body: Buffer }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const status = Number(statusLine!.split(' ')[1]);
      const rest = all.subarray(end + 4);
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (rest.byteLength >= n) done({ status, headers, body: rest.subarray(0, n) });
      } else if (headers['transfer-encoding'] === 'chunked' && rest.includes('\r\n0\r\n\r\n')) {
        const parts: Buffer[] = [];
        for (let at = 0; ;) {
          const eol = rest.indexOf('\r\n', at);
          const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
          if (size === 0) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
        }
        done({ status, headers, body: Buffer.concat(parts) });
      }
    });
    socket.write(bytes);
  });
}

describe('README: Unity and Godot snippets decide over REST', function () {
  this.timeout(60_000);
  let t: TestServer;
  let brain: Brain;
  let readme: string;
  let actions: string[];
  /** Observations as a game has them: 24 features, multiples of 0.001 in [-1, 1]. */
  const observations = Array.from({ length: 24 }, (_, k) => {
    const r = prng(100 + k);
    return Float32Array.from({ length: 24 }, () => Math.round((r() * 2 - 1) * 1000) / 1000);
  });

  before(async () => {
    readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const manifest = JSON.parse(await readFile(join(MODELS, 'npc-guard', 'manifest.json'), 'utf8'));
    actions = manifest.policy.actions.discrete.branches[0];
    t = await startTestServer({ modelsDir: MODELS, watch: false });
    brain = await createBrain({ mode: 'local', models: MODELS, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    await t?.server.close();
  });

  const cases: Array<[keyof typeof ENGINES, string, (code: string) => Snippet]> = [
    ['unity', 'csharp', unitySnippet],
    ['godot', 'gdscript', godotSnippet],
  ];
  for (const [engine, lang, parse] of cases) {
    it(`${engine}: the snippet's request decides as the SDK does`, async () => {
      const s = parse(codeBlock(readme, lang));
      expect(s.actions, "the snippet's action names are the manifest's, in order").to.deep.equal(actions);
      expect(s.headers).to.deep.equal(['Content-Type: application/json']);
      const host = `127.0.0.1:${t.server.port}`;
      const seen = new Set<string>();
      for (const obs of observations) {
        const body = Buffer.from(bodyOf(s, obs), 'utf8');
        const head = ENGINES[engine](s, host, body);
        const res = await exchange(t.server.port, Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]));
        expect(res.status, res.body.toString()).to.equal(200);
        const encoding = res.headers['content-encoding'];
        const text = (
          encoding === 'gzip' ? gunzipSync(res.body) : encoding === 'deflate' ? inflateSync(res.body) : res.body
        ).toString('utf8');
        // The snippet's decoding: outputs[0].data, the most probable index, its name.
        const reply = JSON.parse(text) as { outputs: Array<{ name: string; data: number[] }> };
        expect(reply.outputs.map((o) => o.name)).to.deep.equal(['probs']);
        const probs = reply.outputs[0]!.data;
        let best = 0;
        for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
        const [d] = await brain.policy('npc-guard').decide([obs]);
        expect(s.actions[best], `observation ${Array.from(obs).join(',')}`).to.equal(d!.action);
        seen.add(d!.action!);
      }
      expect(seen.size, 'the observations lead to more than one action').to.be.greaterThan(1);
    });
  }
});
