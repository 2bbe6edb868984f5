/**
 * The one error type that crosses module boundaries. Anything thrown that is not an AppError is a
 * bug or an infrastructure failure: the HTTP edge logs it and answers a bare 500.
 *
 * @example throw new AppError(404, 'partner_not_found', `No partner ${id}`)
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (kind: string, id: string): AppError =>
  new AppError(404, `${kind}_not_found`, `No ${kind.replaceAll('_', ' ')} with id ${JSON.stringify(id)}.`);
