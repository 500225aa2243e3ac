/**
 * The vocabulary between an adapter and the core: what an adapter tells the core about a request
 * (`RequestInfo`), what it says when it commits (`CommitOptions`), and the headers it gets back
 * (`CommitResult`). Types only.
 */

/**
 * A request's headers as the adapter has them: node's `req.headers` (lower-case names) or a Web
 * `Headers`. Read only for `token: { header }`.
 *
 * @example
 * ```ts
 * const headers: RequestHeaders = req.headers; // or request.headers
 * ```
 */
export type RequestHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * What an adapter tells the core about a request.
 *
 * @example
 * ```ts
 * const rs = sessions.request({ cookie: req.headers.cookie, secure: true, host: req.headers.host, userAgent: req.headers['user-agent'] });
 * ```
 */
export interface RequestInfo {
  /** The raw `Cookie` header. */
  readonly cookie?: string | null | undefined;
  /** The request's headers, where a header token (`token: { header }`) is read from. */
  readonly headers?: RequestHeaders | undefined;
  /** Whether the request reached the app over HTTPS (decides `secure: 'auto'`). */
  readonly secure?: boolean;
  /** The host the request addressed (for the warning about Secure cookies over plain HTTP). */
  readonly host?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly ip?: string | undefined;
}

/**
 * Headers an adapter adds to the response: `set-cookie`, `cache-control`, `vary` (append Vary).
 *
 * @example
 * ```ts
 * const { headers } = await rs.commit();
 * for (const [name, value] of headers) res.appendHeader(name, value);
 * ```
 */
export interface CommitResult {
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

/**
 * What an adapter tells the core when it commits.
 *
 * @example
 * ```ts
 * const { headers } = await rs.commit({ status: res.statusCode });
 * ```
 */
export interface CommitOptions {
  /** The response status: 5xx commits nothing (the handler failed; its changes are half-done). */
  readonly status?: number;
}
