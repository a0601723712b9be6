/**
 * Error codes and message names shared by the Playmind server and its clients (the
 * protocol module lives in `sdk/protocol/`: errors, message names, zod schemas of every
 * message and HTTP body, and the binary codecs; this file re-exports the part every SDK
 * module needs, so importing it pulls in no schema).
 *
 * @packageDocumentation
 */
export * from './protocol/errors.js';
export * from './protocol/messages.js';
