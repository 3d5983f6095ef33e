import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ClientInterceptors, type ConnectionOptions } from '@temporalio/client';

/**
 * The API's connection to Temporal, made for a person waiting on the other end. Temporal's client retries
 * an unreachable server for about 20 s and waits for a hung one forever; here a call retries 3 times
 * (about half a second) and never takes longer than TEMPORAL_CALL_TIMEOUT_MS unless it sets its own
 * deadline, so that an outage is answered 503 dependency_unavailable at once (api/errors.ts).
 * The connection is lazy: the API starts, and says in /health/ready that Temporal is down, while it is.
 */
export const TEMPORAL_CALL_TIMEOUT_MS = 5_000;

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/**
 * Every call without a deadline of its own gets one. It passes the call on as it is (grpc-js composes
 * interceptors as functions from options to the next call, so handing back the next call is a pass-through;
 * its type asks for the InterceptingCall class of a package this project does not depend on directly).
 */
const defaultDeadline =
  (ms: number): GrpcInterceptor =>
  (options, nextCall) =>
    nextCall({ ...options, deadline: options.deadline ?? Date.now() + ms }) as ReturnType<GrpcInterceptor>;

export function temporalConnectionOptions(address: string, callTimeoutMs = TEMPORAL_CALL_TIMEOUT_MS): ConnectionOptions {
  return {
    address,
    connectTimeout: callTimeoutMs,
    interceptors: [defaultDeadline(callTimeoutMs), makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3 }))],
  };
}

export function connectTemporal(opts: { address: string; namespace: string; callTimeoutMs?: number; interceptors?: ClientInterceptors | undefined }): { connection: Connection; client: Client } {
  const connection = Connection.lazy(temporalConnectionOptions(opts.address, opts.callTimeoutMs));
  return { connection, client: new Client({ connection, namespace: opts.namespace, ...(opts.interceptors ? { interceptors: opts.interceptors } : {}) }) };
}
