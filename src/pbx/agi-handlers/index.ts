import type { RouteGuard } from '../route-guard.js';
import { AgiHandlerRegistry } from './agi-handler.js';
import { RouteGuardHandler } from './route-guard.js';
import { TelegramCallerIdHandler, type TelegramChannelRecorder } from './tg-callerid.js';

/** What the dialplan hooks need from the rest of tgpbx. */
export interface AgiHandlerDeps {
  telegramChannels: TelegramChannelRecorder;
  routeGuard: RouteGuard;
}

/** Every dialplan hook, served over FastAGI and by the scripts in agi/. A new hook is one file and one line here. */
export function createAgiHandlers(deps: AgiHandlerDeps): AgiHandlerRegistry {
  return new AgiHandlerRegistry([
    new TelegramCallerIdHandler(deps.telegramChannels),
    new RouteGuardHandler(deps.routeGuard),
  ]);
}
