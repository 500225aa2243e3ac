import { type ArgumentsHost, Catch, type ExceptionFilter, type HttpServer } from '@nestjs/common';
import { SessionError } from 'tessera-session';
import { renderSessionError } from 'tessera-session/http';

/**
 * tessera's errors answered with their own status (403 CSRF, 503 store down) and
 * `{ error: code, message }`, not Nest's 500 "Internal server error" for an unknown exception.
 * Global, so it also sees what tessera's hooks throw (the CSRF preHandler, a failed commit in onSend).
 */
@Catch(SessionError)
export class SessionErrorFilter implements ExceptionFilter {
  readonly adapter: HttpServer;
  constructor(adapter: HttpServer) {
    this.adapter = adapter;
  }

  catch(err: SessionError, host: ArgumentsHost) {
    const { status, headers, body } = renderSessionError(err);
    const res = host.switchToHttp().getResponse();
    for (const [name, value] of Object.entries(headers)) this.adapter.setHeader(res, name, value);
    this.adapter.reply(res, body, status);
  }
}
