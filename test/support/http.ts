import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listen on an ephemeral loopback port; `close()` ends it. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  setCookies: string[];
  body: string;
  json: <T = Record<string, unknown>>() => T;
}

/** A tiny browser: keeps cookies from Set-Cookie (honouring Max-Age=0) and sends them back. */
export class Browser {
  readonly jar = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(
    path: string,
    init: {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      cookie?: string | null;
    } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    const cookie = init.cookie === undefined ? this.cookie : init.cookie;
    if (cookie) headers['cookie'] = cookie;
    const res = await fetch(this.base + path, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/;\s*Max-Age=0\b/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const body = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      setCookies,
      body,
      json: <T>() => JSON.parse(body) as T,
    };
  }

  get(path: string) {
    return this.request(path);
  }

  post(path: string, body?: string, headers: Record<string, string> = {}) {
    return this.request(path, { method: 'POST', ...(body === undefined ? {} : { body }), headers });
  }
}
