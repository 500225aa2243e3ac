/**
 * Load without loss: many concurrent clients, each adding distinct items to its own session
 * through a real HTTP server for a fixed time. At the end every item of every client is present,
 * and no request got a 5xx. The figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../src/lifecycle/sessions.ts';
import { testApp } from '../support/app.ts';
import { Browser, listen } from '../support/http.ts';
import { storeFactories } from '../support/store-factories.ts';

const CLIENTS = 24;
const DURATION_MS = 2500;

for (const factory of storeFactories) {
  const reason = await factory.unavailable();
  describe.skipIf(reason !== null)(`load without loss: ${factory.name}`, () => {
    it(`${CLIENTS} clients adding items for ${DURATION_MS} ms lose nothing`, async () => {
      const store = await factory.make();
      const sessions = createSessions({ secrets: ['l'.repeat(32)], store });
      const server = await listen(testApp(sessions as never));
      const statuses = new Map<number, number>();
      const sent: number[] = [];
      try {
        const deadline = Date.now() + DURATION_MS;
        const clients = Array.from({ length: CLIENTS }, async (_, c) => {
          const browser = new Browser(server.url);
          await browser.post('/set?key=items&value=[]');
          let n = 0;
          // Two requests in flight per client: pushes of one session race each other.
          const lane = async () => {
            while (Date.now() < deadline) {
              const item = `c${c}-${n++}`;
              const r = await browser.post(
                `/push?key=items&value=${encodeURIComponent(JSON.stringify(item))}`,
              );
              statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            }
          };
          await Promise.all([lane(), lane()]);
          sent[c] = n;
          const items = (await browser.get('/get?key=items')).json<{ out: string[] }>().out;
          return { c, n, items };
        });
        const results = await Promise.all(clients);
        let total = 0;
        for (const { c, n, items } of results) {
          const expected = new Set(Array.from({ length: n }, (_, i) => `c${c}-${i}`));
          expect(new Set(items)).toEqual(expected);
          expect(items).toHaveLength(n);
          total += n;
        }
        const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
        console.log(
          `[load] ${factory.name}: ${CLIENTS} clients, ${requests} writes in ${DURATION_MS} ms ` +
            `(${Math.round(requests / (DURATION_MS / 1000))}/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
            `${total} items, all present`,
        );
        expect([...statuses.keys()]).toEqual([200]);
      } finally {
        await server.close();
        await sessions.close();
      }
    });
  });
}
