/**
 * Error codes and the one error class shared by the Playmind server and its clients.
 *
 * Every error that crosses a boundary (engine → SDK, server → client, HTTP →
 * caller) carries one of the stable {@link ErrorCode} values, so a client can
 * branch on `err.code` without parsing messages.
 *
 * @packageDocumentation
 */

/** Stable error codes. Never change a value: clients depend on them. */
export const ErrorCode = {
  /** An argument has the wrong type or value (a programming error). */
  INVALID_ARGUMENT: 'invalid_argument',
  /** An observation row has a wrong length, a missing feature or a non-finite value. */
  INVALID_OBSERVATION: 'invalid_observation',
  /** A tensor fed to a model has a wrong name, dtype or shape. */
  INVALID_TENSOR: 'invalid_tensor',
  /** No model of that name is in the repository. */
  UNKNOWN_MODEL: 'unknown_model',
  /** An action name is not one the model declares. */
  UNKNOWN_ACTION: 'unknown_action',
  /** The model exists but is not of the kind the call needs (policy, recommender, tensor). */
  WRONG_KIND: 'wrong_kind',
  /** The model is known but has no loaded version that can answer. */
  MODEL_UNAVAILABLE: 'model_unavailable',
  /** A model file could not be loaded (unreadable, not ONNX, refused by onnxruntime). */
  MODEL_LOAD_FAILED: 'model_load_failed',
  /** A manifest is missing, not JSON, or does not match the manifest schema. */
  MANIFEST_INVALID: 'manifest_invalid',
  /** A model's inputs or outputs do not match what its manifest declares. */
  CONTRACT_MISMATCH: 'contract_mismatch',
  /**
   * A model answered with NaN or Infinity: refused at load when its warm-up (zeros and a few
   * probe inputs) gives one, and a run-time answer holding one is this error, not a value.
   */
  NON_FINITE_OUTPUT: 'non_finite_output',
  /** The engine's queue for the model is full; retry later or fall back. */
  OVERLOADED: 'overloaded',
  /** The request's deadline passed before it could be answered. */
  DEADLINE_EXCEEDED: 'deadline_exceeded',
  /** The brain, engine or connection was closed. */
  CLOSED: 'closed',
  /** The server cannot be reached (remote route). */
  UNAVAILABLE: 'unavailable',
  /** A message could not be parsed or has the wrong structure. */
  MALFORMED_MESSAGE: 'malformed_message',
  /** A message or request body is larger than the server accepts. */
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  /** A client sent more requests than it is allowed to. */
  RATE_LIMITED: 'rate_limited',
  /** An admin call without a valid token. */
  UNAUTHORIZED: 'unauthorized',
  /** The `models` folder or URL of a brain (or a CLI command) does not exist or is not a model repository. */
  MODELS_NOT_FOUND: 'models_not_found',
  /** A `serverUrl` that is not a `ws://` / `wss://` (or `http://` / `https://`) URL. */
  INVALID_SERVER_URL: 'invalid_server_url',
  /** A manifest names a fallback heuristic that no one registered. */
  UNKNOWN_HEURISTIC: 'unknown_heuristic',
  /** A file of the inference runtime itself (onnxruntime-web's .wasm or .mjs) could not be loaded. */
  RUNTIME_LOAD_FAILED: 'runtime_load_failed',
  /** A package the entry called needs is not installed (an optional peer, e.g. the server's for `playmind/server`). */
  DEPENDENCY_MISSING: 'dependency_missing',
  /** A bug: an error that none of the other codes describes. */
  INTERNAL: 'internal',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

const CODES = new Set<string>(Object.values(ErrorCode));

/** Returns whether `code` is one of the stable {@link ErrorCode} values. */
export function isErrorCode(code: unknown): code is ErrorCodeValue {
  return typeof code === 'string' && CODES.has(code);
}

/** Options of {@link PlaymindError}. */
export interface PlaymindErrorOptions {
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
  /** Structured context: the model, the file, the feature, the index... */
  details?: Record<string, unknown>;
}

/**
 * The one error class of Playmind. `code` is stable; `message` is for people.
 *
 * @example
 * try { await guard.decide(rows); }
 * catch (err) { if (err instanceof PlaymindError && err.code === ErrorCode.OVERLOADED) retryLater(); }
 */
export class PlaymindError extends Error {
  /** The stable error code. */
  readonly code: ErrorCodeValue;
  /** Structured context for the error. */
  readonly details: Record<string, unknown>;

  /**
   * @param code - one of {@link ErrorCode}
   * @param message - what was wrong, naming the model, file, feature or field
   * @param options - cause and details
   */
  constructor(code: ErrorCodeValue, message: string, options: PlaymindErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlaymindError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /**
   * An error that is control flow, not a fault (`overloaded` under a flood): built without
   * a stack trace, whose capture costs more than the rest of a refusal.
   * @param code - one of {@link ErrorCode}
   * @param message - what was wrong
   * @param options - cause and details
   */
  static refusal(code: ErrorCodeValue, message: string, options: PlaymindErrorOptions = {}): PlaymindError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new PlaymindError(code, message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** A plain object for the wire (JSON or msgpack). */
  toJSON(): WireError {
    return { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error received from the wire; unknown codes become `internal`. */
  static fromWire(wire: unknown): PlaymindError {
    if (wire && typeof wire === 'object') {
      const w = wire as Partial<WireError>;
      const code = isErrorCode(w.code) ? w.code : ErrorCode.INTERNAL;
      const message = typeof w.message === 'string' ? w.message : 'unknown error';
      const details = w.details && typeof w.details === 'object' ? w.details : {};
      return new PlaymindError(code, message, { details });
    }
    return new PlaymindError(ErrorCode.INTERNAL, 'malformed error reply');
  }
}

/** An error as it travels between server and client. */
export interface WireError {
  code: ErrorCodeValue;
  message: string;
  details?: Record<string, unknown>;
}

/** Wraps anything thrown into a {@link PlaymindError}, keeping `cause`. */
export function toPlaymindError(err: unknown, fallbackCode: ErrorCodeValue = ErrorCode.INTERNAL): PlaymindError {
  if (err instanceof PlaymindError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PlaymindError(fallbackCode, message, { cause: err });
}
