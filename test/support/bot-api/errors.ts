/**
 * Bot API error replies, worded as api.telegram.org words them.
 */

/** An error reply: HTTP status = error_code, plus the description Telegram sends. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly retryAfter?: number,
  ) {
    super(description);
    this.name = 'ApiError';
  }

  /** The JSON body Telegram sends for this error. */
  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { ok: false, error_code: this.status, description: this.description };
    if (this.retryAfter !== undefined) body.parameters = { retry_after: this.retryAfter };
    return body;
  }
}

/** 400 "Bad Request: <what>". */
export function badRequest(what: string): ApiError {
  return new ApiError(400, `Bad Request: ${what}`);
}

/** 403 "Forbidden: <what>". */
export function forbidden(what: string): ApiError {
  return new ApiError(403, `Forbidden: ${what}`);
}

/** 400 for a missing parameter that has no dedicated wording. */
export function required(name: string): ApiError {
  return badRequest(`parameter "${name}" is required`);
}

/** 429 with Telegram's wording and `parameters.retry_after`. */
export function tooManyRequests(retryAfter: number): ApiError {
  return new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter);
}

/** The canonical error replies shared by several methods. */
export const Errors = {
  unauthorized: () => new ApiError(401, 'Unauthorized'),
  notFound: () => new ApiError(404, 'Not Found'),
  chatNotFound: () => badRequest('chat not found'),
  chatIdEmpty: () => badRequest('chat_id is empty'),
  textEmpty: () => badRequest('message text is empty'),
  textTooLong: () => badRequest('message is too long'),
  captionTooLong: () => badRequest('message caption is too long'),
  blocked: () => forbidden('bot was blocked by the user'),
  cantInitiate: () => forbidden("bot can't initiate conversation with a user"),
  toBot: () => forbidden("bot can't send messages to bots"),
  messageIdMissing: () => badRequest('message identifier is not specified'),
  editNotFound: () => badRequest('message to edit not found'),
  deleteNotFound: () => badRequest('message to delete not found'),
  replyNotFound: () => badRequest('message to be replied not found'),
  notModified: () =>
    badRequest(
      'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    ),
  queryTooOld: () => badRequest('query is too old and response timeout expired or query ID is invalid'),
  pollConflict: () =>
    new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'),
  webhookConflict: () =>
    new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"),
  entityTooLarge: () => new ApiError(413, 'Request Entity Too Large'),
} as const;
