/**
 * The Phaser 4 scene plugin: gives each scene `this.playmind`, a brain bound to the
 * scene's lifecycle, in the manner of Phaser's own scene plugins (`Phaser.Time.Clock`,
 * the tween manager): set up on the scene's `start`, torn down on its `shutdown`,
 * released for good on `destroy`.
 *
 * - `start` (which follows `boot` on a scene's first start, and comes again on every
 *   restart) creates a brain with the plugin's options;
 * - `shutdown` (`this.scene.stop()`, `this.scene.start(other)`, a restart) closes it: its
 *   engine and models are released, a remote brain leaves the server's room;
 * - `destroy` (the game is destroyed, the scene removed) closes it too.
 *
 * @example
 * import { playmindPlugin, type PlaymindPlugin } from 'playmind/phaser';
 *
 * class Arena extends Phaser.Scene {
 *   declare playmind: PlaymindPlugin;
 *   async create() {
 *     const [d] = await this.playmind.policy('npc-guard').decide([observation]);
 *   }
 * }
 * new Phaser.Game({
 *   scene: [Arena],
 *   plugins: { scene: [playmindPlugin({ brain: { mode: 'remote', serverUrl: 'ws://localhost:2567' } })] },
 * });
 */
import * as Phaser from 'phaser';
import type { Brain, BrainOptions, ModelHandle, PolicyHandle, RecommenderHandle } from '../brain.js';
import { ErrorCode, PlaymindError } from '../protocol.js';

/**
 * The SDK's browser `createBrain`, imported when a scene first needs a brain: the game's first
 * chunk carries Phaser and this plugin, not onnxruntime-web (a bundler splits it off).
 */
const defaultCreateBrain = async (options: SceneBrainOptions): Promise<Brain> =>
  (await import('../index.browser.js')).createBrain(options);

/** Options of the browser brain a scene gets (those of `createBrain` in the browser build). */
export type SceneBrainOptions = BrainOptions & { wasmPaths?: string };

/** Options of {@link playmindPlugin}. */
export interface PlaymindPluginOptions {
  /** The brain's options, or a function of the scene that returns them (called on each start). */
  brain: SceneBrainOptions | ((scene: Phaser.Scene) => SceneBrainOptions);
  /** Keys of the scenes that get a brain; every scene when omitted. */
  scenes?: readonly string[];
  /**
   * Creates the brain (the SDK's browser `createBrain` by default). For a custom build
   * (e.g. the Node build under a DOM shim), or to wrap the brain.
   */
  createBrain?: (options: SceneBrainOptions) => Promise<Brain>;
  /**
   * When a run's brain is created: `'start'`, as the scene starts; `'first-use'`, the first
   * time the run asks for it (`ready`, a `policy`/`recommender`/`model` call) — for a game
   * that needs the brain only in some runs or later (the demo's offline mode). Either way it
   * is closed when the scene shuts down. @default 'start'
   */
  create?: 'start' | 'first-use';
}

/** Where the plugin is installed. */
export interface PlaymindPluginInstall {
  /** The key in Phaser's plugin cache (one per set of options). @default 'PlaymindPlugin' */
  key?: string;
  /** The scene property the plugin is mapped to. @default 'playmind' */
  mapping?: string;
}

/** A scene plugin entry for the game config's `plugins.scene` list. */
export interface PlaymindPluginEntry {
  key: string;
  plugin: new (scene: Phaser.Scene, pluginManager: Phaser.Plugins.PluginManager, pluginKey: string) => PlaymindPlugin;
  mapping: string;
}

/**
 * The scene plugin: `this.playmind` in a scene. Create its entry with {@link playmindPlugin}.
 *
 * Calls made through {@link PlaymindPlugin.policy}, {@link PlaymindPlugin.recommender} and
 * {@link PlaymindPlugin.model} wait for the brain of the scene's current run; once the scene
 * has shut down they fail with `closed`.
 */
export class PlaymindPlugin extends Phaser.Plugins.ScenePlugin {
  /** The plugin's options; set by the subclass {@link playmindPlugin} makes. */
  protected static readonly pluginOptions: PlaymindPluginOptions | undefined = undefined;
  private current: Brain | null = null;
  private pending: Promise<Brain> = rejected(notStarted());
  /** In `create: 'first-use'`, what makes the current run's brain, until something asks for it. */
  private deferred: (() => void) | null = null;
  private run = 0;

  /**
   * Called by Phaser once, when the scene boots: the plugin listens to the scene's events.
   * When installed into a scene that is already running, it starts at once.
   */
  override boot(): void {
    const events = this.systems!.events;
    events.on(Phaser.Scenes.Events.START, this.sceneStart, this);
    events.once(Phaser.Scenes.Events.DESTROY, this.destroy, this);
    const status = this.systems!.settings.status;
    if (status >= Phaser.Scenes.START && status < Phaser.Scenes.SHUTDOWN) this.sceneStart();
  }

  /** The brain of the scene's current run, or null before it is ready and after shutdown. */
  get brain(): Brain | null {
    return this.current;
  }

  /**
   * The brain of the scene's current run, once created.
   * @throws PlaymindError `closed` after shutdown; `invalid_argument` in a scene the plugin's
   *   `scenes` option leaves out; whatever `createBrain` failed with
   */
  get ready(): Promise<Brain> {
    if (this.deferred) {
      const create = this.deferred;
      this.deferred = null;
      create();
    }
    return this.pending;
  }

  /** A policy of the scene's brain (see `Brain.policy`). */
  policy(name: string): PolicyHandle {
    const on = (): Promise<PolicyHandle> => this.ready.then((b) => b.policy(name));
    return {
      name,
      decide: async (observations, options) => (await on()).decide(observations, options),
      resetAgent: (agent) => this.current?.policy(name).resetAgent(agent),
      memory: (agent) => this.current?.policy(name).memory(agent),
      manifest: async () => (await on()).manifest(),
    };
  }

  /** A recommender of the scene's brain (see `Brain.recommender`). */
  recommender(name: string): RecommenderHandle {
    return {
      name,
      recommend: async (request, options) => (await this.ready).recommender(name).recommend(request, options),
    };
  }

  /** A tensor model of the scene's brain (see `Brain.model`). */
  model(name: string): ModelHandle {
    return {
      name,
      run: async (feeds, options) => (await this.ready).model(name).run(feeds, options),
      manifest: async () => (await this.ready).model(name).manifest(),
    };
  }

  /** Scene `start`: creates the run's brain, and closes it on the scene's `shutdown`. */
  protected sceneStart(): void {
    const scene = this.scene!;
    const options = (this.constructor as typeof PlaymindPlugin).pluginOptions;
    const run = ++this.run;
    this.deferred = null;
    this.systems!.events.once(Phaser.Scenes.Events.SHUTDOWN, this.sceneShutdown, this);
    const key = scene.sys.settings.key;
    if (!options) {
      this.pending = rejected(
        new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          'PlaymindPlugin has no options: install it with playmindPlugin()',
        ),
      );
      return;
    }
    if (options.scenes && !options.scenes.includes(key)) {
      this.pending = rejected(
        new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `scene "${key}" has no brain: the plugin's 'scenes' option lists ${options.scenes.map((s) => `"${s}"`).join(', ')}`,
        ),
      );
      return;
    }
    const start = (): void => {
      const brainOptions = typeof options.brain === 'function' ? options.brain(scene) : options.brain;
      const create = options.createBrain ?? defaultCreateBrain;
      this.pending = create(brainOptions).then(async (brain) => {
        if (run !== this.run) {
          // The scene shut down while the brain was being made.
          await brain.close();
          throw closedError(key);
        }
        this.current = brain;
        return brain;
      });
      // A failure is the caller's to see through `ready` or a call; it must not be unhandled.
      this.pending.catch(() => undefined);
    };
    if (options.create === 'first-use') {
      this.pending = rejected(notStarted());
      this.deferred = start;
    } else start();
  }

  /** Scene `shutdown`: closes the run's brain. */
  protected sceneShutdown(): void {
    this.systems?.events.off(Phaser.Scenes.Events.SHUTDOWN, this.sceneShutdown, this);
    this.run++;
    this.deferred = null;
    const brain = this.current;
    this.current = null;
    this.pending = rejected(closedError(this.scene?.sys.settings.key ?? this.pluginKey));
    if (brain) brain.close().catch((err: unknown) => console.warn('[playmind] closing the scene brain failed', err));
  }

  /** Scene `destroy`: shuts down and lets go of the scene. */
  override destroy(): void {
    this.sceneShutdown();
    this.systems?.events.off(Phaser.Scenes.Events.START, this.sceneStart, this);
    super.destroy();
  }
}

/**
 * The entry to put in the game config's `plugins.scene` list.
 * @param options - the brain each scene gets, and which scenes get one
 * @param install - the plugin key and the scene property (`this.playmind` by default)
 * @returns `{ key, plugin, mapping }`
 * @throws TypeError when `options.brain` is missing
 * @example
 * new Phaser.Game({ plugins: { scene: [playmindPlugin({ brain: { mode: 'local', models: './models/' } })] } });
 */
export function playmindPlugin(
  options: PlaymindPluginOptions,
  install: PlaymindPluginInstall = {},
): PlaymindPluginEntry {
  if (
    !options ||
    typeof options !== 'object' ||
    (typeof options.brain !== 'object' && typeof options.brain !== 'function')
  )
    throw new TypeError("'options.brain' must be the brain's options or a function of the scene that returns them");
  if (
    options.scenes !== undefined &&
    !(Array.isArray(options.scenes) && options.scenes.every((s) => typeof s === 'string'))
  )
    throw new TypeError("'options.scenes' must be an array of scene keys");
  if (options.create !== undefined && options.create !== 'start' && options.create !== 'first-use')
    throw new TypeError(`'options.create' must be 'start' or 'first-use', got ${JSON.stringify(options.create)}`);
  const bound = { ...options };
  class BoundPlaymindPlugin extends PlaymindPlugin {
    protected static override readonly pluginOptions = bound;
  }
  return { key: install.key ?? 'PlaymindPlugin', plugin: BoundPlaymindPlugin, mapping: install.mapping ?? 'playmind' };
}

function closedError(scene: string): PlaymindError {
  return new PlaymindError(ErrorCode.CLOSED, `the brain of scene "${scene}" was closed when the scene shut down`);
}

function notStarted(): PlaymindError {
  return new PlaymindError(ErrorCode.CLOSED, 'the scene has not started: its brain is created when it starts');
}

/** A rejected promise that is not reported as unhandled until someone awaits it. */
function rejected<T>(err: Error): Promise<T> {
  const p = Promise.reject(err);
  p.catch(() => undefined);
  return p;
}
