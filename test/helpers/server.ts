/** Starting a real Playmind server in-process on 127.0.0.1 (ephemeral port) for tests. */
import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createServer, type CreateServerOptions, type PlaymindServer } from '../../server/app.js';
import { serverConfig } from '../../server/config.js';

/** Log lines a test server wrote (parsed pino JSON). */
export interface LogRecord {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A running test server and what it logged. */
export interface TestServer {
  server: PlaymindServer;
  /** Every record at `warn` or above. */
  logs: LogRecord[];
  /** Records at `error` or above. */
  errors(): LogRecord[];
  /** `ws://127.0.0.1:port` */
  wsUrl: string;
}

/**
 * Starts a server on 127.0.0.1, port 0, logging warnings and errors to memory.
 * @param overrides - config overrides (models dir, admin token, limits...)
 */
export async function startTestServer(
  overrides: Parameters<typeof serverConfig>[0] = {},
  options: Omit<CreateServerOptions, 'logger'> = {},
): Promise<TestServer> {
  const logs: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) {
          try {
            logs.push(JSON.parse(line) as LogRecord);
          } catch {
            logs.push({ level: 50, msg: line });
          }
        }
      }
      done();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  const server = await createServer(
    serverConfig({ port: 0, host: '127.0.0.1', demoDir: '/nonexistent-demo', logLevel: 'warn', ...overrides }),
    { ...options, logger },
  );
  return { server, logs, errors: () => logs.filter((l) => l.level >= 50), wsUrl: server.url.replace(/^http/, 'ws') };
}

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads one metric's value from Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[4]);
  }
  return total;
}

/**
 * Collects what a server child process writes: its pino JSON lines from stdout (a line that
 * is not JSON is kept as an info message) and its stderr.
 * @param child - spawned with `stdio: ['ignore', 'pipe', 'pipe']`
 */
export function collectLogs(child: ChildProcess): { logs: LogRecord[]; stderr: string[] } {
  const logs: LogRecord[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogRecord);
      } catch {
        logs.push({ level: 30, msg: line });
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  return { logs, stderr };
}
