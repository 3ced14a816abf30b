import type { Server } from 'node:http';

/**
 * An idle keep-alive connection is closed by the client, never by the server first: a server that
 * closes one just as the client reuses it resets that request (ECONNRESET). Azure's front ends keep
 * connections idle for minutes, so a long timeout is also what a bot behind them wants. Node requires
 * headersTimeout above keepAliveTimeout.
 */
export function keepConnectionsOpen(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}
