/**
 * Turns protocol declarations into validated JSON-RPC handlers. Every incoming params object is
 * checked against its zod schema; a bad one is answered with InvalidParams naming the field.
 */
import type { z } from 'zod';
import { ErrorCodes, ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver';
import type { NotificationType, RequestType } from '../../../schemas/rpc';
import { UserError } from '../errors';

export type AnyRequest = RequestType<z.ZodType, z.ZodType>;

export interface HandlerEntry {
  readonly request: AnyRequest;
  readonly handle: (params: unknown, token: CancellationToken) => Promise<unknown>;
}

/** Pairs a request declaration with its implementation; the types follow the declaration. */
export function handle<P extends z.ZodType, R extends z.ZodType>(
  request: RequestType<P, R>,
  implementation: (params: z.output<P>, token: CancellationToken) => Promise<z.input<R>> | z.input<R>,
): HandlerEntry {
  return {
    request,
    handle: async (params, token) => implementation(params as z.output<P>, token),
  };
}

export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(params)'}: ${issue.message}`)
    .join('; ');
}

export function registerHandlers(connection: Connection, entries: readonly HandlerEntry[]): void {
  for (const entry of entries) {
    connection.onRequest(entry.request.method, async (rawParams: unknown, token: CancellationToken) => {
      const parsed = entry.request.params.safeParse(rawParams ?? {});
      if (!parsed.success) {
        return new ResponseError(
          ErrorCodes.InvalidParams,
          `${entry.request.method}: invalid params: ${describeZodError(parsed.error)}`,
        );
      }
      try {
        return await entry.handle(parsed.data, token);
      } catch (error) {
        if (error instanceof UserError) {
          return new ResponseError(ErrorCodes.InvalidRequest, error.message, error.details);
        }
        throw error;
      }
    });
  }
}

/** Sends a notification after checking it against its declaration (a bug here is ours, so it throws). */
export function sendNotification<P extends z.ZodType>(
  connection: Connection,
  notification: NotificationType<P>,
  params: z.input<P>,
): void {
  void connection.sendNotification(notification.method, notification.params.parse(params));
}
