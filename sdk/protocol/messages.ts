/**
 * Names of the rooms and of every message they exchange: the one place they are
 * spelled. Payloads are described by the schemas in `schemas.ts`.
 *
 * @module
 */

/**
 * Message types of the `inference` room. Requests (`decide`, `recommend`, `run`,
 * `describe`) travel as Colyseus requests (`room.request(type, payload)`): the reply is
 * the result, or a rejection carrying a {@link WireError}. `reset` is a plain message
 * (no reply). `error` is the one message the server sends unasked: a typed notice for a
 * message it could not answer as a request (sent without `room.request`, of an unknown
 * type) or before it disconnects a flooding client.
 */
export const InferenceMessage = {
  DECIDE: 'decide',
  RECOMMEND: 'recommend',
  RUN: 'run',
  DESCRIBE: 'describe',
  RESET: 'reset',
  ERROR: 'error',
} as const;

/** The request types of the `inference` room. */
export type InferenceRequestType =
  | typeof InferenceMessage.DECIDE
  | typeof InferenceMessage.RECOMMEND
  | typeof InferenceMessage.RUN
  | typeof InferenceMessage.DESCRIBE;

/** Message types of the `arena` room. */
export const ArenaMessage = {
  INPUT: 'input',
  TAKE_QUEST: 'take-quest',
  FINISH_QUEST: 'finish-quest',
  ABANDON_QUEST: 'abandon-quest',
  GUARD_MODE: 'guard-mode',
  RECOMMENDATIONS: 'recommendations',
  ERROR: 'error',
} as const;

/** Names of the Colyseus rooms the server defines. */
export const RoomName = { ARENA: 'arena', INFERENCE: 'inference' } as const;
