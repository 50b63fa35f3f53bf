import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A bare AMI peer for benchmarks: sends the banner, answers every action with Success,
 * and calls `onTrigger` with the socket when an action matches `trigger` (Login for
 * asterisk-manager alone, Events for tgpbx's AmiClient, which sends it right after login).
 */
export async function listenAsAmiPeer(trigger: RegExp, onTrigger: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.write('Asterisk Call Manager/9.0.0\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        const id = /actionid: *(.*)/i.exec(frame)?.[1] ?? '';
        socket.write(`Response: Success\r\nActionID: ${id}\r\nMessage: ok\r\n\r\n`);
        if (trigger.test(frame)) onTrigger(socket);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/**
 * Starts an AMI peer in a process of its own (ami-peer-process.ts), so that generating the
 * stream takes no CPU from the client measured. `written` resolves, for paced runs, with
 * the wall-clock time each call's last Hangup frame was written (keyed by Linkedid, or by
 * caller number with `uniqueCallers`).
 */
export async function forkAmiPeer(opts: { trigger: string; calls: number; perSecond: number | null; mix?: string[]; uniqueCallers?: boolean }) {
  const child = fork(fileURLToPath(new URL('./ami-peer-process.ts', import.meta.url)), [JSON.stringify(opts)], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const written = new Promise<Map<string, number>>((resolve) => child.on('message', (m: { written?: [string, number][] }) => m.written && resolve(new Map(m.written))));
  return { port, written, close: () => child.send('close') };
}
