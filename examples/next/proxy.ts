import { NextResponse } from 'next/server';
import { FLASH_HEADER, session } from './lib/session';

// The proxy (formerly middleware) runs before every page it matches, and unlike a server
// component it can set cookies. It does the two things pages cannot: it commits (so a visit
// slides the idle expiry and a flash read is removed), and it hands the flashes to the page in a
// request header, always overwritten so a client cannot send its own.
export const proxy = session.route(async (request, load) => {
  const s = await load();
  const { pathname } = new URL(request.url);
  if (pathname.startsWith('/dashboard') && !s.userId)
    return NextResponse.redirect(new URL('/login', request.url));
  const forwarded = new Headers(request.headers);
  forwarded.set(FLASH_HEADER, JSON.stringify(s.flashes()));
  return NextResponse.next({ request: { headers: forwarded } });
});

export const config = { matcher: ['/', '/login', '/dashboard/:path*'] };
