/**
 * `npm start`: reads flags and environment, starts the server, and drains on
 * SIGTERM/SIGINT (readiness 503 for `--drain-grace-ms`, then no new connections or
 * rooms; rooms dispose, in-flight inference is answered; then everything closes). A
 * second signal exits at once.
 */
import pino from 'pino';
import { createServer } from './app.js';
import { ConfigError, HELP, parseConfig } from './config.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`playmind server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  const { config } = parsed;
  const logger = pino({ level: config.logLevel, base: { service: 'playmind', pid: process.pid } });
  let server;
  try {
    server = await createServer(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'server failed to start');
    process.exit(1);
  }
  let signals = 0;
  const drain = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    logger.info({ signal }, 'draining');
    server.close({ graceMs: config.drainGraceMs }).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', drain);
  process.on('SIGINT', drain);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

main().catch((err: unknown) => {
  process.stderr.write(`playmind server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
