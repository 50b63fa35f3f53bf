/**
 * Why an AGI conversation ended early. Every kind is safe to log: messages name the
 * command and the limit, never a header value or any other caller data.
 */
export type AgiFailureKind = 'hangup' | 'timeout' | 'protocol' | 'command' | 'closed';

/** Base of every AGI failure; `kind` says which, for logs and the session report. */
export class AgiError extends Error {
  constructor(
    readonly kind: AgiFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'AgiError';
  }
}

/** The channel hung up (a `HANGUP` notice, SIGHUP, or a `511` reply): not a fault, the call is simply over. */
export class AgiHangupError extends AgiError {
  constructor(message = 'the channel hung up') {
    super('hangup', message);
    this.name = 'AgiHangupError';
  }
}

/** Asterisk did not send the environment or a reply in time. */
export class AgiTimeoutError extends AgiError {
  constructor(message: string) {
    super('timeout', message);
    this.name = 'AgiTimeoutError';
  }
}

/** The peer sent something that is not AGI: a bad line, an oversized line or environment. */
export class AgiProtocolError extends AgiError {
  constructor(message: string) {
    super('protocol', message);
    this.name = 'AgiProtocolError';
  }
}

/** Asterisk refused a command: `510` unknown command, `520` bad syntax (with its usage text). */
export class AgiCommandError extends AgiError {
  constructor(
    readonly code: number,
    readonly command: string,
    message: string,
  ) {
    super('command', message);
    this.name = 'AgiCommandError';
  }
}

/** The connection closed before the conversation ended. */
export class AgiClosedError extends AgiError {
  constructor(message = 'the connection closed') {
    super('closed', message);
    this.name = 'AgiClosedError';
  }
}
