/**
 * Playmind for Phaser 4 (`playmind/phaser`): a scene plugin that gives every scene
 * `this.playmind`, a brain created when the scene starts and closed when it shuts down.
 * Uses the SDK's browser build (onnxruntime-web, models over HTTP, or the server over
 * WebSocket); `phaser` is a peer dependency.
 *
 * ```ts
 * import { playmindPlugin, type PlaymindPlugin } from 'playmind/phaser';
 * new Phaser.Game({ plugins: { scene: [playmindPlugin({ brain: { mode: 'remote', serverUrl } })] }, scene: [Arena] });
 * ```
 *
 * @packageDocumentation
 */
export { PlaymindPlugin, playmindPlugin } from './playmind-plugin.js';
export type {
  PlaymindPluginEntry,
  PlaymindPluginInstall,
  PlaymindPluginOptions,
  SceneBrainOptions,
} from './playmind-plugin.js';
