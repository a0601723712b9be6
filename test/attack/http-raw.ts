/** Raw HTTP/1.1 over a TCP socket, for attacks `fetch` cannot make (lying lengths, trickles, no body at all). */
import { connect, type Socket } from 'node:net';

/** What came back on a raw socket. */
export interface RawReply {
  /** The status of the first response, or 0 when none came. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the socket. */
  closed: boolean;
  /** ms from connecting to the first response byte (or to the close, without one). */
  ms: number;
}

/**
 * Opens a socket to `port`, writes `head` (and whatever `send` writes), and collects what
 * comes back until the server closes the socket or `waitMs` passes.
 * @param port - the server's port on 127.0.0.1
 * @param head - the request line and headers, ending in a blank line
 * @param options - `send(socket)` writes more (a body, a trickle); `waitMs` bounds the wait
 */
export function rawRequest(
  port: number,
  head: string,
  options: { send?: (socket: Socket) => void; waitMs?: number; localAddress?: string } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let firstByte: number | undefined;
    const chunks: Buffer[] = [];
    const socket = connect({
      port,
      host: '127.0.0.1',
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      const headers: Record<string, string> = {};
      for (const line of (m?.[2] ?? '').split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({
        status: m ? Number(m[1]) : 0,
        headers,
        body: m?.[3] ?? '',
        closed,
        ms: (firstByte ?? performance.now()) - t0,
      });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 10_000);
    socket.on('data', (c) => {
      firstByte ??= performance.now();
      chunks.push(c);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      options.send?.(socket);
    });
  });
}
