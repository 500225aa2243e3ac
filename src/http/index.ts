/**
 * `tessera-session/http`: the HTTP edge every built-in adapter is made of, for third-party
 * adapters too. An adapter maps one framework's request and hook onto these: the forwarded facts
 * (one `trustProxy`), `sessions.request()`, `commit({ status })` before the head is written,
 * {@link applySessionHeaders}, {@link renderSessionError}, and the CSRF check.
 */

export type { RequestHeaders } from '../lifecycle/request.ts';
export type { SessionTransport } from '../lifecycle/transport.ts';
export {
  assertCsrf,
  type CsrfFacts,
  type CsrfOptions,
  type CsrfVerifier,
  checkCsrf,
  csrfOriginRefusal,
  headerAuthenticated,
  isSafeMethod,
  verifyCsrf,
} from './csrf.ts';
export { renderSessionError, sendSessionError, sessionErrorResponse } from './errors.ts';
export {
  type ForwardedFacts,
  nodeForwarded,
  ownOrigin,
  type TrustProxyOption,
  webForwarded,
} from './forwarded.ts';
export {
  applyNodeHeaders,
  applySessionHeaders,
  type HeaderTarget,
  mergeVary,
  type SessionHeaders,
  withSessionHeaders,
} from './headers.ts';
export { assertSessions, type LoadSession } from './load-session.ts';
