/**
 * tessera on NestJS 11 with Fastify, in the classic CommonJS setup Nest generates
 * (`"module": "commonjs"`). Run: npm run build && SESSION_SECRET=… node dist/main.js
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { csrfProtection, sessionPlugin } from 'tessera-session/fastify';
import { AppModule } from './app.module';
import { SessionErrorFilter } from './session-error.filter';
import { sessions } from './sessions';

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
    logger: ['error'],
  });
  // A Fastify plugin and hook, before every route: request.session(), then the CSRF check on
  // every POST/PUT/PATCH/DELETE (Origin / Sec-Fetch-Site, then the x-csrf-token header or the
  // _csrf field of the form body Nest's Fastify adapter parses).
  await app.register(sessionPlugin, { sessions });
  app.getHttpAdapter().getInstance().addHook('preHandler', csrfProtection());
  app.useGlobalFilters(new SessionErrorFilter(app.getHttpAdapter()));
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`listening on ${await app.getUrl()}`);
}
void bootstrap();
