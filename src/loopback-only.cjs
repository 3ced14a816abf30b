'use strict';
/**
 * Preloaded (`node --require`) into the Agents Playground processes that local mode starts
 * (src/launch.ts). The Playground has no host option and listens on every interface; in local mode
 * the bot runs with anonymous auth, so anyone who could reach a Playground could post as its user,
 * an approver among them (issue #13, hole 3). Every TCP listen in this process that names no host
 * (or the wildcard) listens on 127.0.0.1 instead, and on ::1 at the same port where the machine has
 * IPv6, so `localhost` works whichever address a client resolves. Listens on a given address, a
 * Unix socket or a handle are left as they are.
 */
const net = require('node:net');

const originalListen = net.Server.prototype.listen;
const wildcard = new Set([undefined, null, '', '::', '0.0.0.0']);
const companion = Symbol('ipv6 loopback companion');

function listenOnIpv6LoopbackToo(server) {
  server.once('listening', () => {
    const address = server.address();
    if (!address || typeof address !== 'object') return;
    const ipv6 = net.createServer((socket) => server.emit('connection', socket));
    ipv6[companion] = true;
    ipv6.on('error', (error) => {
      process.emitWarning(`local mode: ::1 unavailable for port ${address.port} (${error.code ?? error.message}); listening on 127.0.0.1 only`);
    });
    // Listening on a host resolves it first (asynchronously, even for an address): a server closed
    // in the meantime (the Playground probes a port by listening and closing at once) closes its
    // companion as soon as that listens, so the port is free on ::1 for the next server.
    let closed = false;
    server.once('close', () => {
      closed = true;
      if (ipv6.listening) ipv6.close();
    });
    ipv6.once('listening', () => {
      if (closed) ipv6.close();
    });
    ipv6.listen(address.port, '::1');
  });
}

net.Server.prototype.listen = function listen(...args) {
  if (this[companion]) return originalListen.apply(this, args);
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1);
    const callback = typeof rest[rest.length - 1] === 'function' ? rest.pop() : undefined;
    const host = typeof rest[0] === 'string' || rest[0] === null || rest[0] === undefined ? rest.shift() : undefined;
    const backlog = typeof rest[0] === 'number' ? rest[0] : undefined;
    if (!wildcard.has(host)) return originalListen.apply(this, args);
    listenOnIpv6LoopbackToo(this);
    return originalListen.call(this, { port: Number(first), host: '127.0.0.1', ...(backlog === undefined ? {} : { backlog }) }, ...(callback ? [callback] : []));
  }
  if (first && typeof first === 'object' && first.path === undefined && first.fd === undefined && !('_handle' in first) && wildcard.has(first.host)) {
    listenOnIpv6LoopbackToo(this);
    return originalListen.call(this, { ...first, host: '127.0.0.1', ipv6Only: undefined }, ...args.slice(1));
  }
  if (first === undefined || typeof first === 'function') {
    listenOnIpv6LoopbackToo(this);
    return originalListen.call(this, { port: 0, host: '127.0.0.1' }, ...args.filter((a) => typeof a === 'function'));
  }
  return originalListen.apply(this, args);
};
