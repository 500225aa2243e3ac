import type { CommitOptions, CommitResult, RequestInfo } from '../lifecycle/request.ts';
import type { RequestSession } from '../lifecycle/request-session.ts';
import type { Sessions } from '../lifecycle/sessions.ts';

/**
 * A request's session, opened only when something first asks for it: the handler loading the
 * session, or a CSRF guard asking how the token travels. Until then no request header is read
 * and nothing is allocated but this object (and the adapter's loader), so a route that never
 * touches its session (a health check, a static file behind the middleware) pays almost nothing
 * for it. On Hono the request's facts need `new URL(request.url)` and a `Headers` object, which
 * @hono/node-server otherwise never builds. The adapter hands its own request object and a
 * function made once per middleware that reads the facts from it, so the reader is no closure
 * per request.
 *
 * @example
 * ```ts
 * const ds = new DeferredSession(sessions, req, (req) => ({ cookie: req.headers.cookie }));
 * req.session = () => ds.session();
 * // after the handler:
 * if (ds.loaded) await ds.commit({ status: res.statusCode });
 * ```
 */
export class DeferredSession<Data extends object, Source> {
  readonly #sessions: Sessions<Data>;
  readonly #source: Source;
  readonly #read: (source: Source) => RequestInfo;
  #rs: RequestSession<Data> | null = null;

  constructor(sessions: Sessions<Data>, source: Source, read: (source: Source) => RequestInfo) {
    this.#sessions = sessions;
    this.#source = source;
    this.#read = read;
  }

  /** The request's session state, opened on first use. */
  get opened(): RequestSession<Data> {
    this.#rs ??= this.#sessions.request(this.#read(this.#source));
    return this.#rs;
  }

  /** Whether the handler asked for the session (only then is anything committed). */
  get loaded(): boolean {
    return this.#rs?.loaded === true;
  }

  /** How the token travels (`'cookie'` or `'header'`); opens the request, with no I/O. */
  get transport(): RequestSession<Data>['transport'] {
    return this.opened.transport;
  }

  session(): ReturnType<RequestSession<Data>['session']> {
    return this.opened.session();
  }

  commit(options?: CommitOptions): Promise<CommitResult> {
    return this.opened.commit(options);
  }

  commitIfIdle(): CommitResult | undefined {
    return this.opened.commitIfIdle();
  }
}
