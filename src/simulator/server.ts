import { randomUUID } from 'node:crypto';
import { keepConnectionsOpen } from '../keep-alive';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { applyAppRegistrationPatch, defaultAppRegistration, type AppRegistration, type AppRegistrationPatch } from './app';
import { ensureSimulatorCertificates, ensureTokenSigningKey } from './certificates';
import { handleControl, isControlPath, type ControlTarget } from './control';
import { entraFault, handleEntra, isEntraPath } from './entra';
import { exchangeFault, handleExchange, isExchangePath, peekInvocation } from './exchange';
import { CallLog, FaultInjector, type ServiceName } from './faults';
import type { TenantFixture } from './fixture';
import { graphFault, handleGraph, isGraphPath } from './graph';
import { header, jsonResponse, readJson, type SimRequest, type SimResponse } from './http';
import { TenantState } from './state';
import { TokenAuthority } from './tokens';

export interface SimulatorOptions {
  fixture: TenantFixture;
  /** 0 picks a free port. */
  port?: number;
  /**
   * Interface to listen on. By default the simulator listens on both loopback addresses,
   * 127.0.0.1 and ::1, so `localhost` works whichever one a client resolves, and nothing
   * outside this machine can reach an API that accepts any client secret.
   */
  host?: string;
  /** Where the CA, the server certificate and the token-signing key live (created on first use). */
  certDir: string;
  now?: () => Date;
  /** SMTP Gate's app registration as the tenant sees it (granted roles, accepted credentials); everything by default. */
  app?: AppRegistrationPatch;
  /** Seed of the pseudo-random choice behind fault rules with a `probability`, so runs repeat. */
  faultSeed?: number;
  /** The `X-IDENTITY-HEADER` value `GET /msi/token` accepts (App Service's `IDENTITY_HEADER`); random by default. */
  identityHeader?: string;
}

export interface RunningSimulator {
  /** `https://localhost:PORT` */
  url: string;
  port: number;
  caCertPath: string;
  /** For an App Service-style managed identity client: its `IDENTITY_ENDPOINT` (`url/msi/token`) and `IDENTITY_HEADER`. */
  identityEndpoint: string;
  identityHeader: string;
  close(): Promise<void>;
}

class Simulator implements ControlTarget {
  state: TenantState;
  readonly faults: FaultInjector;
  readonly calls = new CallLog();
  app: AppRegistration;

  constructor(
    private readonly originalFixture: TenantFixture,
    readonly authority: TokenAuthority,
    readonly now: () => Date,
    private readonly originalApp: AppRegistration,
    faultSeed: number,
    readonly identityHeader: string,
  ) {
    this.state = new TenantState(originalFixture);
    this.app = originalApp;
    this.faults = new FaultInjector(faultSeed);
  }

  reset(fixture?: TenantFixture): void {
    this.state = new TenantState(fixture ?? this.originalFixture);
    this.app = this.originalApp;
    this.faults.clear();
    this.calls.clear();
  }

  async handle(incoming: IncomingMessage, outgoing: ServerResponse, defaultOrigin: string): Promise<void> {
    const body = await readBody(incoming);
    const target = incoming.url ?? '/';
    const hostHeader = incoming.headers.host;
    const origin = hostHeader && /^[A-Za-z0-9.\-[\]:]+$/.test(hostHeader) ? `https://${hostHeader}` : defaultOrigin;
    const request: SimRequest = {
      method: (incoming.method ?? 'GET').toUpperCase(),
      target,
      url: new URL(target, origin),
      headers: incoming.headers,
      body,
      origin,
    };
    const path = request.url.pathname;

    if (isControlPath(path)) {
      if (!isLoopback(incoming.socket.remoteAddress)) {
        return send(outgoing, jsonResponse(403, { error: { code: 'Forbidden', message: 'The control API answers loopback clients only.' } }));
      }
      return send(outgoing, await handleControl(request, this));
    }

    const service: ServiceName | null = isGraphPath(path) ? 'graph' : isExchangePath(path) ? 'exchange' : isEntraPath(path) ? 'token' : null;
    if (service === null) {
      return send(
        outgoing,
        jsonResponse(404, {
          error: {
            code: 'NotFound',
            message: `The tenant simulator serves /v1.0 and /beta (Graph), /adminapi (Exchange), /{tenant}/oauth2 and /msi/token (Entra, managed identity) and /_simulator; nothing at ${path}.`,
          },
        }),
      );
    }

    const arrivedAt = this.now();
    const invocation = service === 'exchange' ? peekInvocation(request) : service === 'graph' ? graphWrite(request) : { cmdlet: null, parameters: null };
    const record = this.calls.start({
      at: arrivedAt.toISOString(),
      service,
      method: request.method,
      path: target,
      cmdlet: invocation.cmdlet,
      parameters: invocation.parameters,
    });

    const latency = this.faults.latencyFor(service);
    if (latency > 0) await sleep(latency);

    const requestId = randomUUID();
    const clientRequestId = header(request, 'client-request-id') ?? requestId;
    const context = { state: this.state, authority: this.authority, app: this.app, identityHeader: this.identityHeader, now: this.now(), requestId, clientRequestId, faults: this.faults, calls: this.calls };

    // The tenant is down: the connection is dropped, whatever was asked.
    if (this.faults.down(this.now())) {
      incoming.socket.destroy();
      return;
    }
    const rule = this.faults.take(service, path, invocation.cmdlet);
    if (rule?.drop) {
      incoming.socket.destroy();
      return;
    }

    let response: SimResponse;
    try {
      if (rule) {
        response = service === 'graph' ? graphFault(rule, context) : service === 'exchange' ? exchangeFault(rule, context) : entraFault(rule, context.now);
      } else {
        response =
          service === 'graph'
            ? await handleGraph(request, context)
            : service === 'exchange'
              ? await handleExchange(request, context)
              : await handleEntra(request, context);
      }
    } catch (error) {
      console.error(`tenant simulator: ${request.method} ${target} failed:`, error);
      response = jsonResponse(500, { error: { code: 'InternalServerError', message: `The tenant simulator failed: ${(error as Error).message}` } });
    }
    record.status = response.status;
    send(outgoing, response);
    this.faults.answered(path, invocation.cmdlet, response.status, this.now());
  }
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || (address?.startsWith('127.') ?? false);
}

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(outgoing: ServerResponse, response: SimResponse): void {
  let payload: Buffer | undefined;
  const headers: Record<string, string> = { ...response.headers };
  if (response.json !== undefined) {
    payload = Buffer.from(JSON.stringify(response.json), 'utf8');
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json; charset=utf-8';
  } else if (response.text !== undefined) {
    payload = Buffer.from(response.text, 'utf8');
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
  }
  headers['Content-Length'] = String(payload?.length ?? 0);
  outgoing.writeHead(response.status, headers);
  outgoing.end(payload);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function listen(server: https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // close() waits for keep-alive connections; tests and Ctrl-C should not.
    server.closeAllConnections();
  });
}

/** A Graph write's JSON body (`{ isEnabled: false }`, `{ perUserMfaState: 'disabled' }`) as the call's parameters, so tests can prove what was written. */
function graphWrite(request: SimRequest): { cmdlet: null; parameters: Record<string, unknown> | null } {
  if (request.method !== 'PATCH') return { cmdlet: null, parameters: null };
  const body = readJson(request);
  const value = body.ok ? body.value : undefined;
  return { cmdlet: null, parameters: value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null };
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const certificates = await ensureSimulatorCertificates(options.certDir);
  const authority = await TokenAuthority.create(await ensureTokenSigningKey(options.certDir));
  const app = applyAppRegistrationPatch(defaultAppRegistration(), options.app ?? {});
  const identityHeader = options.identityHeader ?? randomUUID();
  const simulator = new Simulator(options.fixture, authority, options.now ?? (() => new Date()), app, options.faultSeed ?? 1, identityHeader);

  const servers: https.Server[] = [];
  let origin = '';
  const createServer = (): https.Server => {
    const server = https.createServer({ cert: certificates.certPem, key: certificates.keyPem }, (incoming, outgoing) => {
      simulator.handle(incoming, outgoing, origin).catch((error: unknown) => {
        console.error('tenant simulator: request failed:', error);
        if (!outgoing.headersSent) send(outgoing, jsonResponse(500, { error: { code: 'InternalServerError', message: String(error) } }));
        else outgoing.destroy();
      });
    });
    keepConnectionsOpen(server);
    servers.push(server);
    return server;
  };

  const requestedPort = options.port ?? 0;
  let port: number;
  if (options.host !== undefined) {
    port = await listen(createServer(), requestedPort, options.host);
  } else {
    port = await listenOnLoopback(createServer, servers, requestedPort);
  }
  origin = `https://localhost:${port}`;

  return {
    url: origin,
    port,
    caCertPath: certificates.caCertPath,
    identityEndpoint: `${origin}/msi/token`,
    identityHeader,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}

/** Listens on 127.0.0.1 and, where the machine has IPv6, on ::1 at the same port. */
async function listenOnLoopback(createServer: () => https.Server, servers: https.Server[], requestedPort: number): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const ipv4 = createServer();
    const port = await listen(ipv4, requestedPort, '127.0.0.1');
    const ipv6 = createServer();
    try {
      await listen(ipv6, port, '::1');
      return port;
    } catch (error) {
      servers.splice(servers.indexOf(ipv6), 1);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return port;
      // A random IPv4 port can be taken on ::1 by someone else; pick another pair.
      if (code === 'EADDRINUSE' && requestedPort === 0 && attempt < 5) {
        await closeServer(ipv4);
        servers.splice(servers.indexOf(ipv4), 1);
        continue;
      }
      await closeServer(ipv4);
      throw error;
    }
  }
}
