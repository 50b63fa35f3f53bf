import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Sends one server-sent event. */
export type SendEvent = (event: string, data: unknown) => void;

/**
 * Server-sent event streams of one route plugin. `open` hijacks the reply, calls
 * `subscribe` with a sender, keeps the connection alive with comments and, when the
 * browser goes away or the server closes, calls the unsubscribe function `subscribe`
 * returned and ends the stream (long-lived streams would otherwise hold app.close() open).
 */
export function eventStreams(app: FastifyInstance): { open(req: FastifyRequest, reply: FastifyReply, subscribe: (send: SendEvent) => () => void): void } {
  const streams = new Map<ServerResponse, () => void>();
  app.addHook('preClose', async () => {
    for (const close of [...streams.values()]) close();
  });
  return {
    open(req, reply, subscribe) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      const write = (text: string) => {
        if (!res.writableEnded) res.write(text);
      };
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), 25_000);
      const unsubscribe = subscribe((event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      const close = () => {
        if (!streams.has(res)) return;
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(res);
        res.end();
      };
      streams.set(res, close);
      req.raw.on('close', close);
    },
  };
}
