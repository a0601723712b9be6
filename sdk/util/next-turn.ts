/**
 * Runs a callback on the next turn of the event loop, after pending I/O, in Node
 * (setImmediate) and in browsers (a MessageChannel message: unlike setTimeout(0), it is
 * not clamped to 4 ms). Returns a function that cancels it.
 */
export type Cancel = () => void;

let channel: MessageChannel | undefined;
const due = new Map<number, () => void>();
let nextId = 1;

/** Schedules `fn` for the next turn; the returned function cancels it. */
export function nextTurn(fn: () => void): Cancel {
  if (typeof setImmediate === 'function') {
    const handle = setImmediate(fn);
    return () => clearImmediate(handle);
  }
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = (e: MessageEvent<number>) => {
      const run = due.get(e.data);
      due.delete(e.data);
      run?.();
    };
    // Where ports can keep a process alive (Node, Deno), this one must not.
    (channel.port1 as { unref?: () => void }).unref?.();
  }
  const id = nextId++;
  due.set(id, fn);
  channel.port2.postMessage(id);
  return () => {
    due.delete(id);
  };
}
