/**
 * Screenshots of the demo's pages for the docs: `node scripts/screenshots.ts` writes
 * docs/screenshots/{home,cart,login,dashboard,sessions}.png. Starts the demo in-process on a free
 * port with a memory store and drives Debian's Chromium (CHROMIUM_PATH to use another).
 */
import { mkdirSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../demo/config.ts';
import { startDemo } from '../demo/server.ts';

const out = new URL('../docs/screenshots/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const demo = await startDemo(
  loadConfig({
    PORT: '0',
    SESSION_STORE: 'memory',
    SESSION_SECRET: 'screenshots-only-secret-0123456789abcdef',
  }),
);
const browser = await chromium.launch({
  executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
  ],
});

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${out}${name}.png`, fullPage: true });
  console.log(`docs/screenshots/${name}.png`);
}

async function login(page: Page): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('wonderland');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL(/\/dashboard$/);
}

try {
  const viewport = { width: 1100, height: 700 };
  const laptop = await browser.newContext({ baseURL: demo.url, viewport });
  const phone = await browser.newContext({
    baseURL: demo.url,
    viewport,
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1',
  });
  const page = await laptop.newPage();

  await page.goto('/');
  for (const like of ['Earl Grey', 'rainy Sundays', 'long walks']) {
    await page.getByPlaceholder('e.g. tea').fill(like);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.waitForURL(/\/$/);
  }
  await shoot(page, 'home');

  await page.goto('/cart');
  for (const product of ['Earl Grey tea', 'Earl Grey tea', 'Scone', 'Strawberry jam']) {
    await page.getByRole('button', { name: `Add ${product}` }).click();
    await page.waitForURL(/\/cart$/);
  }
  await shoot(page, 'cart');

  await page.goto('/login');
  await shoot(page, 'login');

  await login(await phone.newPage());
  await login(page);
  await shoot(page, 'dashboard');

  await page.goto('/sessions');
  await shoot(page, 'sessions');
} finally {
  await browser.close();
  await demo.close();
}
