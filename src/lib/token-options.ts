/** Validation of the header-token settings (`createSessions({ token })`). */
import type { ResolvedToken, TokenOptions } from '../options.ts';
import { fail, refuseUnknown } from './config-error.ts';

const KNOWN_TOKEN = new Set(['header', 'responseHeader', 'cookie']);
const TOKEN_HINTS: Readonly<Record<string, string>> = {
  name: "use token: { header } (e.g. 'authorization' or 'x-session-token')",
  scheme: "use token: { header: 'authorization' } for Authorization: Bearer <token>",
};
/** RFC 9110 5.6.2: a field name is a token. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Headers the token may not travel in: the cookie's own, and ones with a meaning of their own. */
const RESERVED_HEADERS = new Set([
  'cookie',
  'set-cookie',
  'host',
  'origin',
  'referer',
  'content-type',
  'content-length',
  'vary',
  'cache-control',
  'x-csrf-token',
]);

function headerName(value: unknown, what: string, example: string): string {
  if (typeof value !== 'string' || !FIELD_NAME.test(value.toLowerCase()))
    fail(`${what} must be a header name, e.g. ${example}; got ${JSON.stringify(value)}`);
  const name = value.toLowerCase();
  if (RESERVED_HEADERS.has(name) || name.startsWith('sec-') || name.startsWith('access-control-'))
    fail(
      `${what} cannot be ${JSON.stringify(value)}, a header with a meaning of its own; use e.g. ${example}`,
    );
  return name;
}

/** The header token in force, checked and frozen, or `null`: cookie only. */
export function resolveToken(token: TokenOptions | undefined): ResolvedToken | null {
  if (token === undefined) return null;
  if (typeof token !== 'object' || token === null)
    fail(
      "token must be an object: { header: 'authorization' } (Authorization: Bearer <token>) or { header: 'x-session-token' }",
    );
  refuseUnknown(token, KNOWN_TOKEN, TOKEN_HINTS, 'token.');
  if (token.header === undefined)
    fail(
      "token.header is required: 'authorization' (Authorization: Bearer <token>) or a header of your own such as 'x-session-token'",
    );
  const header = headerName(token.header, 'token.header', "'authorization' or 'x-session-token'");
  const bearer = header === 'authorization';
  const responseHeader =
    token.responseHeader === undefined
      ? bearer
        ? 'x-session-token'
        : header
      : headerName(token.responseHeader, 'token.responseHeader', "'x-session-token'");
  if (responseHeader === 'authorization')
    fail(
      "token.responseHeader cannot be 'authorization' (a response has no Authorization header); leave it out for the default 'x-session-token'",
    );
  if (token.cookie !== undefined && typeof token.cookie !== 'boolean')
    fail('token.cookie must be a boolean: true keeps the cookie for requests without the header');
  return Object.freeze({ header, bearer, responseHeader, cookie: token.cookie ?? false });
}
