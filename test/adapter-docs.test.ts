/**
 * Each adapter page's complete app, run exactly as written: the block under "## A complete app"
 * is started as its own Node process importing tessera by its public names (package
 * self-reference to the built dist/), then used as a browser would: a form with its CSRF token,
 * a post, the note shown back, and a post without the token refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, tsBlockAfter } from './support/doc-code.ts';
import { Browser, type Reply } from './support/http.ts';

const completeApp = (page: string) => tsBlockAfter(`docs/adapters/${page}`, 'A complete app');

let child: ChildProcess | undefined;
afterEach(() => child?.kill());

describe.each(['express.md', 'fastify.md', 'hono.md', 'koa.md'])('docs/adapters/%s', (page) => {
  it('the complete app runs as written: form, CSRF token, post, and refusal without it', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--input-type=module-typescript', '-e', completeApp(page)], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const browser = new Browser(`http://localhost:${port}`);
    let page1: Reply | undefined;
    for (let i = 0; i < 100 && !page1; i++) {
      page1 = await browser.get('/').catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(page1?.status, stderr).toBe(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(page1!.body)?.[1];
    expect(token).toBeTruthy();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const posted = await browser.post(
      '/notes',
      `note=${encodeURIComponent('<b>tea</b>')}&_csrf=${encodeURIComponent(token!)}`,
      form,
    );
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/');
    const page2 = await browser.get('/');
    expect(page2.body).toContain('<li>&#60;b&#62;tea&#60;/b&#62;</li>');
    const refused = await browser.post('/notes', 'note=evil', form);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('ERR_SESSION_CSRF');
    expect((await browser.get('/')).body).not.toContain('evil');
  });
});
