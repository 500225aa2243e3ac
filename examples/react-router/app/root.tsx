import type { ReactNode } from 'react';
import { isRouteErrorResponse, Links, Meta, Outlet, Scripts } from 'react-router';
import type { Route } from './+types/root';
import { sessionMiddleware } from './sessions.server';

export const middleware: Route.MiddlewareFunction[] = [sessionMiddleware];

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  if (!isRouteErrorResponse(error)) return <h1>Something went wrong</h1>;
  return (
    <>
      <h1>{error.status}</h1>
      <p id="error">{error.data?.error}</p>
      <p>{error.data?.message ?? error.statusText}</p>
    </>
  );
}
