/**
 * KServe v2 / Open Inference Protocol over gRPC: the standard's own
 * `inference.GRPCInferenceService` (`proto/open_inference_grpc.proto`, loaded with
 * `@grpc/proto-loader`) on `@grpc/grpc-js`, on a port of its own (`--grpc-port`).
 * Every call goes through the same {@link OpenInference} core as the REST routes: the
 * same repository and engine, the same limits (largest message = `--max-body`, deadline
 * capped at `--max-deadline-ms`), the same request metrics (frontend `grpc`), and the
 * error codes mapped to gRPC status codes (`grpc-status.ts`).
 *
 * A `ModelInfer` call is admitted (the shared {@link Admission}) before its message is
 * decoded: grpc-js has received the bytes by then (a unary handler runs once the whole
 * message is in), but a refused call costs no protobuf decoding; malformed bytes get
 * INVALID_ARGUMENT (`malformed_message`).
 */
import { fileURLToPath } from 'node:url';
import {
  Server,
  ServerCredentials,
  status,
  type Deadline,
  type ServerUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { Admission } from '../inference/admission.js';
import { SERVER_NAME, SERVER_VERSION, type OpenInference } from '../inference/open-inference.js';
import type { ServerServices } from '../services.js';
import { grpcError } from './grpc-status.js';
import { inferCallOf, inferResponseOf, modelMetadataOf, type ProtoInferRequest } from './infer-messages.js';

/** The standard's service definition, as carried by this project (Apache-2.0, header kept). */
export const PROTO_FILE = fileURLToPath(new URL('./proto/open_inference_grpc.proto', import.meta.url));
/** The service's full name in the `.proto`. */
export const SERVICE_NAME = 'inference.GRPCInferenceService';

/** Options of {@link startGrpcServer}. */
export interface GrpcServerOptions {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** The admission control REST shares: `ModelInfer` calls past its bounds get RESOURCE_EXHAUSTED. */
  admission?: Admission;
}

/** A running gRPC server. */
export interface GrpcInferenceServer {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** `host:port`, as a gRPC client dials it. */
  readonly address: string;
  /**
   * Stops taking calls, lets calls in flight finish for up to `timeoutMs`, then cancels the rest.
   * @param timeoutMs - how long in-flight calls may take @default 5000
   */
  close(timeoutMs?: number): Promise<void>;
}

/** The decoder options this server reads the `.proto` with (int64 as strings: no precision lost). */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/**
 * Starts the gRPC inference service.
 * @param services - the server's services (repository, metrics, logger, config)
 * @param core - the Open Inference core the REST routes use too
 * @param options - where to listen
 * @throws Error when the port cannot be bound
 */
export async function startGrpcServer(
  services: ServerServices,
  core: OpenInference,
  options: GrpcServerOptions,
): Promise<GrpcInferenceServer> {
  const { metrics, config, logger } = services;
  const loaded = loadSync(PROTO_FILE, LOADER_OPTIONS)[SERVICE_NAME] as ServiceDefinition;
  // ModelInfer's message is decoded only once the call is admitted: grpc-js hands the handler
  // its bytes, so a refused call (most of them under overload) costs no protobuf decoding.
  const decodeInfer = loaded.ModelInfer!.requestDeserialize as (bytes: Buffer) => ProtoInferRequest;
  const definition: ServiceDefinition = {
    ...loaded,
    ModelInfer: { ...loaded.ModelInfer!, requestDeserialize: (bytes: Buffer) => bytes },
  };
  const server = new Server({
    'grpc.max_receive_message_length': config.maxBodyBytes,
    'grpc.max_send_message_length': -1,
  });

  /** A unary handler: runs `fn`, answers its result or the mapped error, counts the call. */
  const unary =
    <Req, Res>(method: string, fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      void (async () => {
        try {
          const res = await fn(call.request, call);
          metrics.grpc(method, 'OK');
          callback(null, res);
        } catch (err) {
          const e = grpcError(err);
          metrics.grpc(method, status[e.code]);
          if (e.code === status.INTERNAL) logger.error({ err, method }, 'grpc: call failed');
          callback(e);
        }
      })();
    };

  const implementation: UntypedServiceImplementation = {
    ServerLive: unary('ServerLive', () => ({ live: true })),
    ServerReady: unary('ServerReady', () => ({ ready: core.serverReady() })),
    ServerMetadata: unary('ServerMetadata', () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] })),
    ModelReady: unary('ModelReady', (r: { name: string; version: string }) => ({
      ready: core.modelReady(r.name, r.version === '' ? undefined : r.version),
    })),
    ModelMetadata: unary('ModelMetadata', (r: { name: string; version: string }) =>
      modelMetadataOf(core.modelMetadata(r.name, r.version === '' ? undefined : r.version)),
    ),
    ModelInfer: unary('ModelInfer', async (bytes: Buffer, call) => {
      const ticket = options.admission?.admit(peerAddress(call.getPeer()));
      if (ticket && 'refused' in ticket) throw options.admission!.error(ticket.refused);
      try {
        let request: ProtoInferRequest;
        try {
          request = decodeInfer(bytes);
        } catch (err) {
          throw new PlaymindError(
            ErrorCode.MALFORMED_MESSAGE,
            `the ModelInferRequest could not be decoded: ${(err as Error).message}`,
          );
        }
        const { call: infer, raw } = inferCallOf(request, remainingMs(call.getDeadline()));
        return inferResponseOf(await core.infer(infer, 'grpc'), raw);
      } finally {
        ticket?.release();
      }
    }),
  };
  server.addService(definition, implementation);

  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  const dialHost = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;

  let closing: Promise<void> | undefined;
  return {
    port,
    address: `${dialHost}:${port}`,
    close(timeoutMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}

/** The address of a gRPC peer (`ipv4:127.0.0.1:5000` → `127.0.0.1`, `ipv6:[::1]:5000` → `::1`). */
function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]*)\]/.exec(p);
  if (v6) return v6[1]!;
  const i = p.lastIndexOf(':');
  return i > 0 ? p.slice(0, i) : p;
}

/** What is left of a gRPC deadline, in ms (undefined when the call has none). */
function remainingMs(deadline: Deadline): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - Date.now() : undefined;
}
