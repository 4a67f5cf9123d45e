import type { z } from 'zod';

/** A request one side sends and the other answers; declared once, imported by both sides. */
export interface RequestType<P extends z.ZodType, R extends z.ZodType> {
  readonly kind: 'request';
  readonly method: string;
  readonly params: P;
  readonly result: R;
}

/** A one-way message; `params` is validated on receipt. */
export interface NotificationType<P extends z.ZodType> {
  readonly kind: 'notification';
  readonly method: string;
  readonly params: P;
}

export function defineRequest<P extends z.ZodType, R extends z.ZodType>(
  method: `mlw/${string}/${string}`,
  shape: { params: P; result: R },
): RequestType<P, R> {
  return { kind: 'request', method, ...shape };
}

export function defineNotification<P extends z.ZodType>(
  method: `mlw/${string}/${string}`,
  shape: { params: P },
): NotificationType<P> {
  return { kind: 'notification', method, ...shape };
}

export type ParamsOf<T> = T extends RequestType<infer P, z.ZodType> ? z.input<P> : never;
export type ParsedParamsOf<T> = T extends RequestType<infer P, z.ZodType> ? z.output<P> : never;
export type ResultOf<T> = T extends RequestType<z.ZodType, infer R> ? z.output<R> : never;
export type NotificationParamsOf<T> = T extends NotificationType<infer P> ? z.output<P> : never;
