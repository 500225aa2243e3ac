/**
 * The demo app: the classic session examples (anonymous likes, "forget me", language, shopping
 * cart, login, dashboard, logout, "your sessions") as one Hono app over tessera.
 */
import { type Context, Hono } from 'hono';
import { csrfProtection, type SessionEnv, sessionMiddleware } from '../src/adapters/hono.ts';
import { createSessions, type Session, type Sessions } from '../src/index.ts';
import { type DemoConfig, openStore } from './config.ts';
import { isLang, type Lang, pickLang } from './i18n.ts';
import { type ProductId, productById, products } from './products.ts';
import { authenticate, type User, userById } from './users.ts';
import {
  cartPage,
  dashboardPage,
  errorPage,
  type Flash,
  type Frame,
  homePage,
  loginPage,
  sessionsPage,
  stylesheet,
} from './views.ts';

/** What the demo keeps in a session. Cart lines are one counter per product, for `increment`. */
export type DemoData = {
  likes: string[];
  lang: Lang;
} & { [P in ProductId as `cart:${P}`]: number };

type Env = SessionEnv<DemoData>;
type C = Context<Env>;

export interface DemoApp {
  readonly app: Hono<Env>;
  readonly sessions: Sessions<DemoData>;
  /** Close the store (after the HTTP server stopped taking requests). */
  readonly close: () => Promise<void>;
}

const MAX_LIKE_LENGTH = 100;
const MAX_LIKES = 200;

/**
 * A strict policy: this app serves no script at all, its one stylesheet from itself, and may not
 * be framed. `strict-origin-when-cross-origin` rather than `no-referrer`: with `no-referrer`,
 * Chromium sends `Origin: null` on form posts, which the CSRF origin check rightly refuses.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

/**
 * Notices shown after the session is gone (forget me, log out): they cannot travel as flash
 * messages in a session that no longer exists, so a fixed key travels in the URL instead.
 */
const NOTICES = new Map([
  ['forgotten', 'Forgotten: your session and everything in it were deleted.'],
  ['logged-out', 'You are logged out; that session no longer exists on the server.'],
]);

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value.trim() : '';
}

const cartKey = (id: ProductId) => `cart:${id}` as const;

/**
 * Build the demo's Hono app and its session manager from a configuration.
 *
 * @example
 * ```ts
 * const { app, close } = await createDemoApp(loadConfig(process.env));
 * serve({ fetch: app.fetch, port: 3000 });
 * ```
 */
export async function createDemoApp(config: DemoConfig, cwd = process.cwd()): Promise<DemoApp> {
  const opened = await openStore(config.store, cwd);
  const sessions = createSessions<DemoData>({
    secrets: [config.secret],
    store: opened.store,
    cookie: {
      name: config.cookieName,
      // Production runs behind HTTPS, and the __Host-/__Secure- prefixes demand Secure (browsers
      // accept it on http://localhost). Otherwise 'auto' also lets a phone on the LAN reach
      // http://<laptop>:3000, where a Secure cookie would be dropped.
      secure: config.production || /^__(Host|Secure)-/.test(config.cookieName) ? true : 'auto',
    },
    idleTimeout: config.idleTimeout,
    absoluteTimeout: config.absoluteTimeout,
  });

  const app = new Hono<Env>();

  app.use(async function securityHeaders(c, next) {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  // These answer before the session and CSRF middleware registered below them would run.
  app.get('/style.css', (c) =>
    c.body(stylesheet, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    }),
  );
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/healthz', async (c) => {
    try {
      await sessions.healthCheck();
      return c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' });
    } catch {
      return c.json({ status: 'unavailable' }, 503, { 'cache-control': 'no-store' });
    }
  });

  app.use(sessionMiddleware(sessions));
  app.use(
    csrfProtection({
      onFailure: (c) =>
        c.html(
          errorPage(
            bareFrame('Forbidden'),
            403,
            'This form has expired or did not come from this site. Go back, reload the page and try again.',
          ),
          403,
        ),
    }),
  );

  async function page(
    c: C,
    title: string,
  ): Promise<{ s: Session<DemoData>; user: User | null; frame: Frame }> {
    const s = await c.var.session();
    const user = userById(s.userId);
    const flashes: Flash[] = s.flashes();
    const notice = NOTICES.get(c.req.query('notice') ?? '');
    if (notice) flashes.push({ type: 'success', message: notice });
    return {
      s,
      user,
      frame: {
        title,
        path: c.req.path,
        userName: user?.name ?? null,
        flashes,
        csrf: s.csrfToken(),
      },
    };
  }

  async function form(c: C): Promise<{ s: Session<DemoData>; body: Record<string, unknown> }> {
    const body = (await c.req.parseBody()) as Record<string, unknown>;
    return { s: await c.var.session(), body };
  }

  // Anonymous session: likes, language, forget me.

  app.get('/', async (c) => {
    const { s, frame } = await page(c, 'Likes');
    const lang = pickLang(s.get('lang'), c.req.header('accept-language'));
    return c.html(homePage({ ...frame, lang }, s.get('likes') ?? []));
  });

  app.post('/likes', async (c) => {
    const { s, body } = await form(c);
    const like = field(body, 'likes');
    if (like === '' || like.length > MAX_LIKE_LENGTH) {
      s.flash('error', `A like is 1 to ${MAX_LIKE_LENGTH} characters.`);
    } else if ((s.get('likes')?.length ?? 0) >= MAX_LIKES) {
      s.flash('error', `That is ${MAX_LIKES} likes already; forget some first.`);
    } else {
      // Atomic in the store: twenty tabs posting at once keep all twenty.
      s.push('likes', like);
      s.flash('success', `Noted: you like ${like}.`);
    }
    return c.redirect('/', 303);
  });

  app.post('/lang', async (c) => {
    const { s, body } = await form(c);
    const lang = field(body, 'lang');
    if (isLang(lang)) {
      s.set('lang', lang);
      s.flash('success', lang === 'fr' ? 'Langue : français.' : 'Language: English.');
    } else s.flash('error', 'Unknown language.');
    return c.redirect('/', 303);
  });

  app.post('/forget', async (c) => {
    (await c.var.session()).destroy();
    return c.redirect('/?notice=forgotten', 303);
  });

  // Shopping cart: one atomic counter per product.

  app.get('/cart', async (c) => {
    const { s, frame } = await page(c, 'Cart');
    return c.html(cartPage(frame, products, (p) => s.get(cartKey(p.id)) ?? 0));
  });

  app.post('/cart/add', async (c) => {
    const { s, body } = await form(c);
    const product = productById(field(body, 'product'));
    if (product) {
      s.increment(cartKey(product.id));
      s.flash('success', `Added ${product.name} to your cart.`);
    } else s.flash('error', 'No such product.');
    return c.redirect('/cart', 303);
  });

  app.post('/cart/remove', async (c) => {
    const { s, body } = await form(c);
    const product = productById(field(body, 'product'));
    const count = product ? (s.get(cartKey(product.id)) ?? 0) : 0;
    if (!product || count <= 0) s.flash('error', 'That is not in your cart.');
    else {
      if (count > 1) s.increment(cartKey(product.id), -1);
      else s.delete(cartKey(product.id));
      s.flash('success', `Removed one ${product.name}.`);
    }
    return c.redirect('/cart', 303);
  });

  app.post('/cart/clear', async (c) => {
    const { s } = await form(c);
    for (const p of products) s.delete(cartKey(p.id));
    s.flash('success', 'Your cart is empty.');
    return c.redirect('/cart', 303);
  });

  // Login, dashboard, logout.

  app.get('/login', async (c) => {
    const { user, frame } = await page(c, 'Log in');
    if (user) return c.redirect('/dashboard', 303);
    return c.html(loginPage(frame));
  });

  app.post('/login', async (c) => {
    const { body } = await form(c);
    const username = field(body, 'username');
    const user = await authenticate(
      username,
      typeof body['password'] === 'string' ? body['password'] : '',
    );
    if (!user) {
      const { frame } = await page(c, 'Log in');
      return c.html(loginPage(frame, username, 'Wrong username or password.'), 401);
    }
    const s = await c.var.session();
    s.login(user.id); // a new session id: an id planted before login is worth nothing after it
    s.flash('success', `Welcome, ${user.name}.`);
    return c.redirect('/dashboard', 303);
  });

  app.get('/dashboard', async (c) => {
    const { s, user, frame } = await page(c, 'Dashboard');
    if (!user) {
      s.flash('error', 'Log in to see your dashboard.');
      return c.redirect('/login', 303);
    }
    return c.html(
      dashboardPage(frame, {
        username: user.username,
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        idleMs: sessions.options.idleTimeout,
      }),
    );
  });

  app.post('/logout', async (c) => {
    (await c.var.session()).logout();
    return c.redirect('/login?notice=logged-out', 303);
  });

  // "Your sessions": list, sign one out, sign out everywhere else.

  app.get('/sessions', async (c) => {
    const { s, user, frame } = await page(c, 'Sessions');
    if (!user) {
      s.flash('error', 'Log in to see your sessions.');
      return c.redirect('/login', 303);
    }
    const list = opened.listable ? await sessions.listSessions(user.id) : null;
    return c.html(sessionsPage(frame, list, s.id));
  });

  app.post('/sessions/revoke', async (c) => {
    const { s, body } = await form(c);
    const user = userById(s.userId);
    if (!user) return c.redirect('/login', 303);
    const id = field(body, 'id');
    if (id === s.id) {
      s.logout();
      return c.redirect('/login?notice=logged-out', 303);
    }
    // With userId: a user can only end their own sessions, whatever id the form carries.
    const ended = opened.listable && (await sessions.revokeSession(id, { userId: user.id }));
    s.flash(
      ended ? 'success' : 'error',
      ended ? 'That session is signed out.' : 'No such session.',
    );
    return c.redirect('/sessions', 303);
  });

  app.post('/sessions/revoke-others', async (c) => {
    const { s } = await form(c);
    const user = userById(s.userId);
    if (!user) return c.redirect('/login', 303);
    if (opened.listable) {
      const n = await sessions.revokeUserSessions(user.id, { except: s.id });
      s.flash('success', `Signed out ${n} other session${n === 1 ? '' : 's'}.`);
    } else {
      // A sealed cookie cannot be spared by id (a thief's copy has the same id): pass the session
      // itself; it is regenerated at commit and is the only one that outlives the revocation.
      await sessions.revokeUserSessions(user.id, { except: s });
      s.flash('success', 'Signed out every other session.');
    }
    return c.redirect('/sessions', 303);
  });

  app.notFound((c) =>
    c.html(errorPage(bareFrame('Not found'), 404, 'There is no such page.'), 404),
  );
  app.onError((err, c) => {
    console.error(err);
    return c.html(errorPage(bareFrame('Error'), 500, 'Something went wrong on our side.'), 500);
  });

  return {
    app,
    sessions,
    close: async () => {
      await sessions.close();
      await opened.close();
    },
  };
}

/** The frame of an error page, which must not depend on the session (it may be the problem). */
function bareFrame(title: string): Frame {
  return { title, path: '', userName: null, flashes: [], csrf: '' };
}
