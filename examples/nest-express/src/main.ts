/**
 * tessera on NestJS 11 with Express, in the classic CommonJS setup Nest generates
 * (`"module": "commonjs"`). Run: npm run build && SESSION_SECRET=… node dist/main.js
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { csrfProtection, sessionMiddleware } from 'tessera-session/express';
import { AppModule } from './app.module';
import { SessionErrorFilter } from './session-error.filter';
import { sessions } from './sessions';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error'] });
  // Express middleware, before every route: req.session(), then the CSRF check on every
  // POST/PUT/PATCH/DELETE (Origin / Sec-Fetch-Site, then the x-csrf-token header or _csrf field).
  app.use(sessionMiddleware(sessions));
  app.use(csrfProtection());
  app.useGlobalFilters(new SessionErrorFilter(app.getHttpAdapter()));
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`listening on ${await app.getUrl()}`);
}
void bootstrap();
