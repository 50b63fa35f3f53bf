import { TelegramClient } from 'telegram';
import { Logger, LogLevel } from 'telegram/extensions/Logger.js';
import { ConnectionTCPFull } from 'telegram/network/connection/TCPFull.js';
import { StringSession } from 'telegram/sessions/index.js';

/**
 * Where GramJS connects when it is not Telegram's own data centers: a private MTProto
 * server or the test emulator. Production leaves it unset (GramJS picks Telegram's DC).
 */
export interface MtprotoEndpoint {
  dcId: number;
  host: string;
  port: number;
}

/** The App credentials from my.telegram.org. */
export interface ApiCredentials {
  apiId: number;
  apiHash: string;
}

/**
 * GramJS dials port 80 (443 with WSS) whatever the session says; a connection class
 * that keeps the endpoint's port is the only way to reach another port.
 */
function connectionKeepingPort(port: number): typeof ConnectionTCPFull {
  return class ConnectionToPort extends ConnectionTCPFull {
    constructor(params: ConstructorParameters<typeof ConnectionTCPFull>[0]) {
      super({ ...params, port });
    }
  };
}

/**
 * A GramJS client for one session string. GramJS's own logging is off (it would print
 * requests, which may hold login codes); flood waits are never slept through silently
 * (tgpbx shows them); reconnect attempts are few because tgpbx supervises with backoff.
 */
export function newTelegramClient(session: string, credentials: ApiCredentials, endpoint?: MtprotoEndpoint): TelegramClient {
  const stringSession = new StringSession(session);
  if (endpoint && !session) stringSession.setDC(endpoint.dcId, endpoint.host, endpoint.port);
  return new TelegramClient(stringSession, credentials.apiId, credentials.apiHash, {
    connection: endpoint ? connectionKeepingPort(endpoint.port) : ConnectionTCPFull,
    useWSS: false,
    connectionRetries: 1,
    retryDelay: 1_000,
    autoReconnect: true,
    floodSleepThreshold: 0,
    baseLogger: new Logger(LogLevel.NONE),
    deviceModel: 'tgpbx',
    systemVersion: `Node.js ${process.versions.node}`,
    appVersion: 'tgpbx 0.1',
  });
}
