/**
 * gRPC status codes of the shared error codes. They follow the REST status of the same
 * code (`server/http/errors.ts`): 400 → INVALID_ARGUMENT, 404 → NOT_FOUND,
 * 429 and 413 → RESOURCE_EXHAUSTED, 504 → DEADLINE_EXCEEDED, 503 → UNAVAILABLE,
 * 422 (a model file the server refused) → FAILED_PRECONDITION, 401 → UNAUTHENTICATED,
 * 500 → INTERNAL. The Playmind code itself travels in the trailing metadata
 * `playmind-error-code`, so a client can branch on it as on the REST body's `code`.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, type ErrorCodeValue } from '../../sdk/index.js';
import { toPlaymindError } from '../../sdk/runtime.js';
import { publicText } from '../http/errors.js';

/** The gRPC status of each error code. */
export const GRPC_STATUS_OF: Readonly<Record<ErrorCodeValue, status>> = Object.freeze({
  [ErrorCode.INVALID_ARGUMENT]: status.INVALID_ARGUMENT,
  [ErrorCode.INVALID_OBSERVATION]: status.INVALID_ARGUMENT,
  [ErrorCode.INVALID_TENSOR]: status.INVALID_ARGUMENT,
  [ErrorCode.UNKNOWN_ACTION]: status.INVALID_ARGUMENT,
  [ErrorCode.WRONG_KIND]: status.INVALID_ARGUMENT,
  [ErrorCode.MALFORMED_MESSAGE]: status.INVALID_ARGUMENT,
  [ErrorCode.MANIFEST_INVALID]: status.FAILED_PRECONDITION,
  [ErrorCode.CONTRACT_MISMATCH]: status.FAILED_PRECONDITION,
  [ErrorCode.NON_FINITE_OUTPUT]: status.INTERNAL,
  [ErrorCode.MODEL_LOAD_FAILED]: status.FAILED_PRECONDITION,
  [ErrorCode.UNKNOWN_MODEL]: status.NOT_FOUND,
  [ErrorCode.MODEL_UNAVAILABLE]: status.UNAVAILABLE,
  [ErrorCode.CLOSED]: status.UNAVAILABLE,
  [ErrorCode.UNAVAILABLE]: status.UNAVAILABLE,
  [ErrorCode.OVERLOADED]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.RATE_LIMITED]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.DEADLINE_EXCEEDED]: status.DEADLINE_EXCEEDED,
  [ErrorCode.PAYLOAD_TOO_LARGE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.UNAUTHORIZED]: status.UNAUTHENTICATED,
  [ErrorCode.INVALID_SERVER_URL]: status.INVALID_ARGUMENT,
  [ErrorCode.UNKNOWN_HEURISTIC]: status.FAILED_PRECONDITION,
  [ErrorCode.MODELS_NOT_FOUND]: status.INTERNAL,
  [ErrorCode.RUNTIME_LOAD_FAILED]: status.INTERNAL,
  [ErrorCode.DEPENDENCY_MISSING]: status.INTERNAL,
  [ErrorCode.INTERNAL]: status.INTERNAL,
});

/** Trailing metadata key that carries the Playmind error code. */
export const ERROR_CODE_METADATA = 'playmind-error-code';

/**
 * The gRPC error a unary handler passes to its callback.
 * @param err - a PlaymindError (anything else becomes `internal`, its message hidden)
 */
export function grpcError(err: unknown): Partial<ServiceError> & { code: status } {
  const e = toPlaymindError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA, e.code);
  const code = GRPC_STATUS_OF[e.code] ?? status.INTERNAL;
  return { code, details: e.code === ErrorCode.INTERNAL ? 'internal error' : publicText(e.message), metadata };
}
