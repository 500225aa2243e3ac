/**
 * Server-rendered pages. Every value goes through Hono's `html` tag, which HTML-escapes whatever
 * it interpolates (only other `html` fragments pass through as markup), and no page needs
 * JavaScript: forms post, the server answers 303, the browser shows the next page.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { SessionInfo } from '../src/index.ts';
import { type Lang, languages } from './i18n.ts';
import type { Product } from './products.ts';

type Fragment = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface Flash {
  readonly type: string;
  readonly message: string;
}

/** What every page shows around its content. */
export interface Frame {
  readonly title: string;
  readonly path: string;
  readonly userName: string | null;
  readonly flashes: readonly Flash[];
  /** A CSRF token for this page's forms (`session.csrfToken()`). */
  readonly csrf: string;
  readonly lang?: Lang;
}

const nav = [
  ['/', 'Likes'],
  ['/cart', 'Cart'],
  ['/dashboard', 'Dashboard'],
  ['/sessions', 'Sessions'],
] as const;

/** The hidden field every POST form carries; `csrfProtection` checks it. */
function csrfField(token: string): Fragment {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}

/** A form that is only a button. */
function button(action: string, label: string, token: string, style = ''): Fragment {
  return html`<form method="post" action="${action}" class="inline">
    ${csrfField(token)}<button type="submit" class="${style}">${label}</button>
  </form>`;
}

function time(ms: number): Fragment {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

function layout(frame: Frame, content: Fragment): Fragment {
  return html`<!doctype html>
<html lang="${frame.lang ?? 'en'}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${frame.title} · tessera demo</title>
    <link rel="stylesheet" href="/style.css" />
  </head>
  <body>
    <header>
      <a class="brand" href="/">tessera<span> demo</span></a>
      <nav>
        ${nav.map(
          ([href, label]) =>
            html`<a href="${href}" ${frame.path === href ? html`aria-current="page"` : ''}>${label}</a>`,
        )}
      </nav>
      <div class="who">
        ${
          frame.userName
            ? html`<span>Signed in as <strong>${frame.userName}</strong></span>
                ${button('/logout', 'Log out', frame.csrf, 'link')}`
            : html`<a href="/login">Log in</a>`
        }
      </div>
    </header>
    <main>
      ${frame.flashes.map(
        (f) =>
          html`<p class="flash ${f.type === 'error' ? 'error' : 'success'}" role="status">${f.message}</p>`,
      )}
      ${content}
    </main>
    <footer>tessera demo: a signed cookie, a hashed id, a record on the server.</footer>
  </body>
</html>`;
}

export function homePage(frame: Frame & { lang: Lang }, likes: readonly string[]): Fragment {
  const t = languages[frame.lang];
  return layout(
    frame,
    html`<h1 id="greeting">${t.greeting}</h1>
      <p class="lead">${t.intro}</p>
      <section class="card">
        <h2>${t.likesTitle}</h2>
        ${
          likes.length === 0
            ? html`<p class="muted" id="no-likes">${t.noLikes}</p>`
            : html`<ul class="likes" id="likes">${likes.map((like) => html`<li>${like}</li>`)}</ul>`
        }
        <form method="post" action="/likes" class="row">
          ${csrfField(frame.csrf)}
          <input name="likes" required maxlength="100" placeholder="${t.likePlaceholder}" aria-label="${t.likesTitle}" />
          <button type="submit">${t.like}</button>
        </form>
      </section>
      <div class="grid">
        <section class="card">
          <h2>${t.language}</h2>
          <form method="post" action="/lang" class="row">
            ${csrfField(frame.csrf)}
            <select name="lang" aria-label="${t.language}">
              ${Object.entries(languages).map(
                ([code, l]) =>
                  html`<option value="${code}" ${code === frame.lang ? html`selected` : ''}>${l.name}</option>`,
              )}
            </select>
            <button type="submit">${t.change}</button>
          </form>
        </section>
        <section class="card">
          <h2>${t.forgetTitle}</h2>
          <p class="muted">${t.forgetText}</p>
          ${button('/forget', t.forget, frame.csrf, 'danger')}
        </section>
      </div>`,
  );
}

export function cartPage(
  frame: Frame,
  products: readonly Product[],
  count: (product: Product) => number,
): Fragment {
  const inCart = products.filter((p) => count(p) > 0);
  const total = inCart.reduce((sum, p) => sum + p.price * count(p), 0);
  return layout(
    frame,
    html`<h1>Shopping cart</h1>
      <p class="lead">Each line is a counter in the session, changed with an atomic
        <code>increment</code>: two tabs adding at once both count.</p>
      <div class="grid">
        <section class="card">
          <h2>Products</h2>
          <ul class="products">
            ${products.map(
              (p) => html`<li>
                <span>${p.name} <span class="muted">${money(p.price)}</span></span>
                <form method="post" action="/cart/add" class="inline">
                  ${csrfField(frame.csrf)}<input type="hidden" name="product" value="${p.id}" />
                  <button type="submit" aria-label="Add ${p.name}">Add</button>
                </form>
              </li>`,
            )}
          </ul>
        </section>
        <section class="card">
          <h2>Your cart</h2>
          ${
            inCart.length === 0
              ? html`<p class="muted" id="cart-empty">Your cart is empty.</p>`
              : html`<table id="cart">
                  <thead><tr><th>Product</th><th>Qty</th><th></th></tr></thead>
                  <tbody>
                    ${inCart.map(
                      (p) => html`<tr data-product="${p.id}">
                        <td>${p.name}</td><td class="qty">${count(p)}</td>
                        <td>
                          <form method="post" action="/cart/remove" class="inline">
                            ${csrfField(frame.csrf)}<input type="hidden" name="product" value="${p.id}" />
                            <button type="submit" class="link" aria-label="Remove one ${p.name}">Remove one</button>
                          </form>
                        </td>
                      </tr>`,
                    )}
                  </tbody>
                  <tfoot><tr><th>Total</th><th>${money(total)}</th><th></th></tr></tfoot>
                </table>
                ${button('/cart/clear', 'Empty the cart', frame.csrf, 'danger')}`
          }
        </section>
      </div>`,
  );
}

/** A duration in words: `30 minutes`, `2 seconds`, `1.5 hours`. */
function span(ms: number): string {
  const [unit, size] =
    ms >= 3_600_000 ? ['hour', 3_600_000] : ms >= 60_000 ? ['minute', 60_000] : ['second', 1000];
  const n = Math.round((ms / size) * 10) / 10;
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function money(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}

export function loginPage(frame: Frame, username = '', error = ''): Fragment {
  return layout(
    frame,
    html`<h1>Log in</h1>
      <section class="card narrow">
        ${error ? html`<p class="flash error" role="alert" id="login-error">${error}</p>` : ''}
        <form method="post" action="/login" class="stack">
          ${csrfField(frame.csrf)}
          <label>Username <input name="username" autocomplete="username" required value="${username}" /></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
          <button type="submit">Log in</button>
        </form>
        <p class="muted">Demo accounts: <code>admin</code> / <code>password123</code> and
          <code>alice</code> / <code>wonderland</code>. Logging in issues a new session id
          (no session fixation) and keeps your likes and cart.</p>
      </section>`,
  );
}

export function dashboardPage(
  frame: Frame,
  session: {
    readonly username: string;
    readonly createdAt: number;
    readonly expiresAt: number;
    readonly idleMs: number;
  },
): Fragment {
  return layout(
    frame,
    html`<h1>Dashboard</h1>
      <section class="card">
        <p>You are signed in as <strong id="user-name">${frame.userName ?? ''}</strong>
          (<code id="username">${session.username}</code>).</p>
        <dl>
          <dt>Session started</dt><dd>${time(session.createdAt)}</dd>
          <dt>Expires</dt><dd id="expires">${time(session.expiresAt)}
            <span class="muted">(after ${span(session.idleMs)} without a request, or at the
            absolute timeout, whichever comes first)</span></dd>
        </dl>
        <p><a href="/sessions">See and end your other sessions →</a></p>
      </section>`,
  );
}

export function sessionsPage(
  frame: Frame,
  list: readonly SessionInfo[] | null,
  currentId: string,
): Fragment {
  return layout(
    frame,
    html`<h1>Your sessions</h1>
      <p class="lead">Every browser where you are signed in. Ending one signs that browser out at
        its next request.</p>
      ${
        list === null
          ? html`<p class="card muted">The sealed-cookie store keeps no list of sessions on the server;
              "sign out everywhere else" still works through its revocation list.</p>
              ${button('/sessions/revoke-others', 'Sign out all other sessions', frame.csrf, 'danger')}`
          : html`<table id="sessions" class="card">
              <thead><tr><th>Browser</th><th>Started</th><th>Last seen</th><th></th></tr></thead>
              <tbody>
                ${list.map(
                  (s) => html`<tr class="${s.id === currentId ? 'current' : ''}">
                    <td class="ua">${s.userAgent ?? 'unknown'}${s.ip ? html`<br /><span class="muted">${s.ip}</span>` : ''}</td>
                    <td>${time(s.createdAt)}</td>
                    <td>${time(s.lastSeenAt)}</td>
                    <td>${
                      s.id === currentId
                        ? html`<strong class="badge">this one</strong>`
                        : html`<form method="post" action="/sessions/revoke" class="inline">
                            ${csrfField(frame.csrf)}<input type="hidden" name="id" value="${s.id}" />
                            <button type="submit" class="link">Sign out</button>
                          </form>`
                    }</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            ${
              list.length > 1
                ? button(
                    '/sessions/revoke-others',
                    'Sign out all other sessions',
                    frame.csrf,
                    'danger',
                  )
                : ''
            }`
      }`,
  );
}

export function errorPage(frame: Frame, status: number, message: string): Fragment {
  return layout(frame, html`<h1>${status}</h1><p class="card">${message}</p>`);
}

export const stylesheet = `
:root { --fg: #1d232b; --muted: #5f6b7a; --bg: #f5f6f8; --card: #fff; --line: #dde1e6;
  --accent: #3556d4; --danger: #c2352b; --ok: #1f7a4d; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.5; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 2rem; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.15rem; color: var(--fg); text-decoration: none; }
.brand span { color: var(--muted); font-weight: 400; }
nav { display: flex; gap: 1rem; flex: 1; }
nav a { color: var(--muted); text-decoration: none; padding: .25rem 0; }
nav a[aria-current] { color: var(--accent); border-bottom: 2px solid var(--accent); }
.who { display: flex; gap: .75rem; align-items: center; color: var(--muted); }
main { max-width: 56rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { margin: 0 0 .5rem; font-size: 1.8rem; }
h2 { margin: 0 0 .75rem; font-size: 1.1rem; }
.lead { color: var(--muted); margin-top: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem; margin: 1rem 0; }
.narrow { max-width: 26rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 0 1rem; }
.muted { color: var(--muted); }
.row { display: flex; gap: .5rem; }
.stack { display: grid; gap: .75rem; }
.stack label { display: grid; gap: .25rem; font-weight: 500; }
.inline { display: inline; margin: 0; }
input, select { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; flex: 1; }
a { color: var(--accent); }
button { white-space: nowrap; font: inherit; padding: .45rem .9rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button.danger { background: var(--danger); }
button.link { background: none; color: var(--accent); padding: 0; }
.flash { padding: .6rem 1rem; border-radius: 6px; background: #e6f4ec; color: var(--ok); border: 1px solid #bfe3cf; }
.flash.error { background: #fbeaea; color: var(--danger); border-color: #f1c4c0; }
.likes { display: flex; flex-wrap: wrap; gap: .4rem; list-style: none; padding: 0; }
.likes li { background: #eef1fb; color: var(--accent); border-radius: 999px; padding: .15rem .7rem; }
.products { list-style: none; padding: 0; margin: 0; }
.products li { display: flex; justify-content: space-between; align-items: center; padding: .4rem 0; border-bottom: 1px solid var(--line); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
tr.current { background: #f2f5ff; }
.ua { max-width: 22rem; word-break: break-word; font-size: .9rem; }
.badge { font-size: .8rem; color: var(--accent); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; }
table + form.inline { display: block; margin-top: 1rem; }
code { background: #eef0f3; padding: .05rem .3rem; border-radius: 4px; }
footer { text-align: center; color: var(--muted); font-size: .85rem; margin: 3rem 0 2rem; }
`;
