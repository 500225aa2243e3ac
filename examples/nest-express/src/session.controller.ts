import { BadRequestException, Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';

/** Every POST here has passed tessera's `csrfProtection()` (main.ts) before it arrives. */
@Controller()
export class SessionController {
  @Get()
  async home(@Req() req: Request) {
    const s = await req.session();
    return {
      views: s.get('views') ?? 0,
      userId: s.userId,
      csrf: s.csrfToken(),
      flashes: s.flashes(),
    };
  }

  @Post('views')
  @HttpCode(200)
  async views(@Req() req: Request) {
    return { views: (await req.session()).increment('views') };
  }

  @Post('login')
  @HttpCode(200)
  async login(@Req() req: Request, @Body() body: { user?: unknown }) {
    const user = body?.user;
    if (typeof user !== 'string' || !user) throw new BadRequestException('user is required');
    // login() regenerates the token (no fixation) and records the user.
    (await req.session()).login(user).flash('info', `Welcome, ${user}`);
    return { ok: true };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request) {
    (await req.session()).logout();
    return { ok: true };
  }
}
