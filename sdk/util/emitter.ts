/** A small typed event emitter that runs in Node and in browsers. */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<(e: never) => void>>();

  /** Adds a listener. @returns a function that removes it */
  on<K extends keyof Events>(event: K, listener: (e: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof Events>(event: K, listener: (e: Events[K]) => void): void {
    this.listeners.get(event)?.delete(listener as (e: never) => void);
  }

  /** Calls every listener of `event`; a listener that throws does not stop the others. */
  protected emit<K extends keyof Events>(event: K, e: Events[K]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (e: Events[K]) => void)(e);
      } catch {
        // a listener's bug must not break the emitter's caller
      }
    }
  }
}
