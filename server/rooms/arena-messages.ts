/**
 * The `arena` room's client messages, parsed at the edge with their schemas
 * (`sdk/protocol/schemas.ts`): a malformed message becomes a typed
 * `malformed_message` error naming the field, never a throw out of a handler, and
 * never a disconnect.
 *
 * | client → server | payload                                   |
 * |-----------------|-------------------------------------------|
 * | `input`         | `{ dx: number, dy: number, attack?: boolean }` — dx, dy finite, clamped to [-1, 1] |
 * | `take-quest`    | `{ questId: string }` — one of `state.quests` |
 * | `finish-quest`  | nothing, or `{}` — turns in the active quest |
 * | `abandon-quest` | nothing, or `{}` — gives up the active quest |
 * | `guard-mode`    | `{ mode: 'model' \| 'scripted' }` — who decides the room's guards: the model, or the scripted expert guard |
 * | `recommendations` | nothing, or `{}` — asks for this player's recommendations now (register the handler first; pushes also follow join and every quest event) |
 *
 * | server → client   | payload |
 * |-------------------|---------|
 * | `recommendations` | `{ player, items: [{ id, title, kind, score }], model, coldStart }` — to that player only |
 * | `error`           | `{ code, message, details: { type } }` — `code` is an `ErrorCode` |
 *
 * @module
 */
import { ArenaMessage } from '../../sdk/index.js';
import {
  EmptyMessageSchema,
  GuardModeMessageSchema,
  InputMessageSchema,
  TakeQuestMessageSchema,
  WIRE_LIMITS,
  parseMessage,
} from '../../sdk/runtime.js';
import type { PlayerInput } from '../sim/index.js';

/** Longest quest id accepted. */
export const MAX_QUEST_ID_LENGTH = WIRE_LIMITS.maxQuestId;

/**
 * Validates an `input` message.
 *
 * @returns the input, `dx`/`dy` clamped to [-1, 1]
 * @throws PlaymindError `malformed_message` naming the field
 */
export function parseInput(message: unknown): PlayerInput {
  return parseMessage(InputMessageSchema, ArenaMessage.INPUT, message);
}

/**
 * Validates a `take-quest` message.
 *
 * @returns the quest id (its existence is checked by the session)
 * @throws PlaymindError `malformed_message`
 */
export function parseTakeQuest(message: unknown): string {
  return parseMessage(TakeQuestMessageSchema, ArenaMessage.TAKE_QUEST, message).questId;
}

/**
 * Validates a `finish-quest` message (no payload, or an object).
 *
 * @throws PlaymindError `malformed_message`
 */
export function parseFinishQuest(message: unknown): void {
  parseMessage(EmptyMessageSchema, ArenaMessage.FINISH_QUEST, message);
}

/**
 * Validates an `abandon-quest` message (no payload, or an object).
 *
 * @throws PlaymindError `malformed_message`
 */
export function parseAbandonQuest(message: unknown): void {
  parseMessage(EmptyMessageSchema, ArenaMessage.ABANDON_QUEST, message);
}

/**
 * Validates a `guard-mode` message.
 *
 * @returns the mode
 * @throws PlaymindError `malformed_message` naming the field
 */
export function parseGuardMode(message: unknown): 'model' | 'scripted' {
  return parseMessage(GuardModeMessageSchema, ArenaMessage.GUARD_MODE, message).mode;
}

/**
 * Validates a `recommendations` request (no payload, or an object).
 *
 * @throws PlaymindError `malformed_message`
 */
export function parseRecommendationsRequest(message: unknown): void {
  parseMessage(EmptyMessageSchema, ArenaMessage.RECOMMENDATIONS, message);
}

export { RateLimiter, DEFAULT_RATE_LIMITS, type RateLimitOptions, type RateVerdict } from './rate-limiter.js';
