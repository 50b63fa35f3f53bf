import net from 'node:net';

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
