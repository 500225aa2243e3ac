/**
 * Hostile input through a real node:http server: random, truncated, oversized, duplicated,
 * non-ASCII and very many cookies never crash the server, never answer 5xx, never adopt a
 * forged value and never create a store record.
 */

import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessions } from '../src/lifecycle/sessions.ts';
import { memoryStore } from '../src/stores/memory.ts';
import { testApp } from './support/app.ts';
import { Browser, listen } from './support/http.ts';
import { counted } from './support/stores.ts';

const store = counted(memoryStore({ sweepInterval: 0 }));
const sessions = createSessions({ secrets: ['h'.repeat(32)], store });
let server: Awaited<ReturnType<typeof listen>>;
let valid = '';

beforeAll(async () => {
  server = await listen(testApp(sessions as never));
  const b = new Browser(server.url);
  await b.post('/set?key=secret&value="mine"');
  valid = b.jar.get('sid')!;
});
afterAll(() => server.close());

/** Send raw header bytes (fetch would refuse some of them). */
function raw(cookie: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/get?key=secret', headers: { cookie } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const recordCount = () => (store.inner as ReturnType<typeof memoryStore>).size;

function mutations(value: string) {
  return fc.oneof(
    fc.nat({ max: value.length - 1 }).map((i) => value.slice(0, i)), // truncated
    fc
      .tuple(fc.nat({ max: value.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([i, c]) => value.slice(0, i) + c + value.slice(i + 1)),
    fc.string({ maxLength: 20 }).map((extra) => value + extra), // extended
    fc.constant(value.split('.').reverse().join('.')), // reordered
  );
}

describe('hostile cookies', () => {
  it('random cookie headers: a fresh session, never a 5xx, never a record', async () => {
    const before = recordCount();
    const header = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 100 })))
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
      fc
        .array(fc.string({ maxLength: 90 }), { maxLength: 8 })
        .map((vals) => vals.map((v) => `sid=${v}`).join('; ')),
    );
    await fc.assert(
      fc.asyncProperty(header, async (cookie) => {
        // Header values must be visible ASCII for the HTTP client; keep what a proxy would pass.
        const safe = cookie.replace(/[^\x20-\x7e]/g, '');
        const r = await raw(safe);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ out: null, isNew: true });
      }),
      { numRuns: 300 },
    );
    expect(recordCount()).toBe(before);
  });

  it('every mutation of a valid cookie is refused', async () => {
    await fc.assert(
      fc.asyncProperty(mutations(valid), async (forged) => {
        const sent = forged.replace(/[^\x20-\x7e]/g, '').replace(/;/g, '');
        // Surrounding spaces are not part of a cookie value (RFC 6265 5.2): that is the same cookie.
        fc.pre(sent.trim() !== valid);
        const r = await raw(`sid=${sent}`);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ out: null });
      }),
      { numRuns: 300 },
    );
  });

  it('the valid cookie still works among many decoys, duplicates and non-ASCII bytes', async () => {
    const decoys = Array.from({ length: 200 }, (_, i) => `c${i}=${'x'.repeat(20)}`).join('; ');
    const r = await raw(`${decoys}; sid=${valid}; sid=${valid.slice(0, 10)}`);
    expect(JSON.parse(r.body)).toMatchObject({ out: 'mine' });
    const utf8 = await raw(`name=caf\u00e9; sid=${valid}`);
    expect(JSON.parse(utf8.body)).toMatchObject({ out: 'mine' });
  });

  it('an oversized cookie header is refused by the HTTP layer (431), and the server keeps serving', async () => {
    const r = await raw(`sid=${'A'.repeat(20_000)}`);
    expect(r.status).toBe(431);
    const ok = await raw(`sid=${valid}`);
    expect(JSON.parse(ok.body)).toMatchObject({ out: 'mine' });
  });
});
