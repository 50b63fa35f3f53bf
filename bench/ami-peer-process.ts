/**
 * A bare AMI peer in a process of its own, so that generating the stream does not take
 * CPU from the client being measured: banner, Success to every action, and after the
 * trigger action it writes `calls` calls from CallStream (paced, or as fast as the socket
 * takes them). Posts { port } when listening and { written: [linkedid, ms] } stamps when paced.
 */
import net from 'node:net';
import { listenAsAmiPeer } from './ami-peer.js';
import { CallStream } from './call-stream.js';

const { trigger, calls, perSecond, mix, uniqueCallers } = JSON.parse(process.argv[2]!) as {
  trigger: string;
  calls: number;
  perSecond: number | null;
  mix?: string[];
  uniqueCallers?: boolean;
};
const send = (m: unknown) => process.send!(m);

async function write(socket: net.Socket): Promise<void> {
  const stream = new CallStream({ mix, uniqueCallers });
  if (perSecond === null) {
    for (let i = 0; i < calls; ) {
      let chunk = '';
      for (let j = 0; j < 64 && i < calls; j++, i++) chunk += stream.next().text;
      if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
    }
    return;
  }
  const gap = 1000 / perSecond;
  const t0 = performance.now();
  const stamps: [string, number][] = [];
  for (let i = 0; i < calls; i++) {
    const call = stream.next();
    socket.write(call.text.slice(0, call.lastHangupEnd));
    // Wall-clock stamp: comparable with the bench process's performance.timeOrigin + now().
    stamps.push([uniqueCallers ? call.caller : call.linkedid, performance.timeOrigin + performance.now()]);
    socket.write(call.text.slice(call.lastHangupEnd));
    const wait = t0 + (i + 1) * gap - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  send({ written: stamps });
}

const server = await listenAsAmiPeer(new RegExp(trigger, 'i'), (socket) => void write(socket));
send({ port: (server.address() as net.AddressInfo).port });
process.on('message', (m: string) => {
  if (m === 'close') {
    server.close();
    process.exit(0);
  }
});
