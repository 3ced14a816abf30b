import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { keepConnectionsOpen } from './keep-alive';
import restify from 'restify';
import { isLocalMode, type Config } from './config';
import { createBotEdge, foreignKeyHeader } from './bot/adapter';
import { BotNotifier, SmtpGateBot } from './bot/bot';
import { Dispatcher } from './core/dispatcher';
import { cleanJson, TooDeepError } from './core/text';
import { checkActivity } from './bot/validate';
import { checkServiceUrl } from './bot/service-url';
import { translator } from './i18n';
import { JobRunner } from './requests/jobs';
import type { Logger } from './log';
import { openDb } from './store/db';
import { Store } from './store/store';
import { connectTenant, type Tenant } from './tenant';
import type { RetryPolicy } from './tenant/http';
import { UserTokenValidator } from './tenant/sso';
import { registerTab } from './tab/routes';

/** The largest request body /api/messages accepts; anything bigger is a 413. */
export const maxBodyBytes = 256 * 1024;

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  /** The core the bot edge calls (tests drive it directly when HTTP would only add time). */
  dispatcher: Dispatcher;
  /** Runs the jobs due now (the interval does it too); resolves with how many ran. */
  runDueJobs(): Promise<number>;
  /** Waits for work that continues after replies (executions, card updates). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerOptions {
  retryPolicy?: Partial<RetryPolicy>;
  /** The clock (tests move it to make requests expire and changes revert). */
  now?: () => Date;
}

/** Restify with the Bot Framework endpoint, a health check and the audit tab. */
export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const localMode = isLocalMode(config);
  // Anonymous means anyone who can reach the port may post as any approver: only against the simulator.
  if (!config.MicrosoftAppId) {
    if (!localMode) {
      throw new Error('MicrosoftAppId is empty but the tenant is not the local simulator: set the Azure Bot registration (MicrosoftAppId, MicrosoftAppPassword); anonymous auth is allowed only in local mode');
    }
    logger.warn('ANONYMOUS MODE: activities are not authenticated (no MicrosoftAppId). Local mode only: listening on 127.0.0.1 and ::1');
  }
  const store = new Store(await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, schema: config.DATABASE_SCHEMA }));
  const tenant: Tenant = connectTenant(config, options.retryPolicy);
  const edge = createBotEdge(config, logger);
  const now = options.now ?? (() => new Date());
  const dispatcher = new Dispatcher({ config, store, tenant, notifier: new BotNotifier(edge.adapter, config.MicrosoftAppId, config.BOT_CONNECTOR_TIMEOUT_MS), logger, now });
  const bot = new SmtpGateBot(dispatcher, logger, config.BOT_CONNECTOR_TIMEOUT_MS);
  const jobs = new JobRunner({ store, requests: dispatcher.requests, logger, now });
  // Before taking traffic: settle what a crash left half-done.
  const reconciled = await dispatcher.requests.execution.reconcile();
  if (reconciled) logger.warn({ reconciled }, 'reconciled requests a previous run left executing');

  const server = restify.createServer({ name: 'smtp-gate', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: maxBodyBytes }));

  server.post('/api/messages', async (req, res) => {
    // NUL bytes and lone surrogates out of every string, before anything reads or stores them.
    try {
      req.body = cleanJson(req.body);
    } catch (error) {
      if (!(error instanceof TooDeepError)) throw error;
      res.status(400);
      res.json({ error: { code: 'BAD_ACTIVITY', message: translator('en')('errors.BAD_ACTIVITY'), field: '(body)', problem: error.message } });
      return;
    }
    if (!edge.anonymous) {
      // botbuilder answers 500 to several forged tokens (alg none, foreign key, HS256, tampered,
      // not yet valid); whatever fails authentication is a 401 here.
      try {
        const foreign = foreignKeyHeader(req.header('authorization') ?? '');
        if (foreign) throw new Error(`the token's header names its own key (${foreign})`);
        await edge.authenticate((req.body ?? {}) as Record<string, unknown>, req.header('authorization') ?? '');
      } catch (error) {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'rejected a request that failed Bot Framework authentication');
        res.status(401);
        res.end();
        return;
      }
    }
    // Only a well-formed activity reaches botbuilder and the handlers; anything else is a 400 naming the field.
    const check = checkActivity(req.body);
    if (!check.ok) {
      logger.warn({ field: check.field, problem: check.problem }, 'refused a malformed activity');
      res.status(400);
      res.json({ error: { code: 'BAD_ACTIVITY', message: translator('en')('errors.BAD_ACTIVITY'), field: check.field, problem: check.problem } });
      return;
    }
    // The bot calls back whatever serviceUrl says, with its token: only Bot Framework / Teams hosts.
    const service = checkServiceUrl((req.body as { serviceUrl: string }).serviceUrl, config);
    if (!service.ok) {
      logger.warn({ problem: service.problem }, 'refused an activity naming a serviceUrl the bot does not call');
      res.status(400);
      res.json({ error: { code: 'BAD_ACTIVITY', message: translator('en')('errors.BAD_ACTIVITY'), field: 'serviceUrl', problem: service.problem } });
      return;
    }
    await edge.adapter.process(req, res, (context) => bot.run(context));
  });

  server.get('/healthz', async (_req, res) => {
    const [storeOk, tenantOk] = await Promise.all([
      store.ping(),
      tenant.directory.ping().then(() => true, (error: unknown) => {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'health check: tenant unreachable');
        return false;
      }),
    ]);
    // When the tenant fails, say whether the credential is the cause and which setting to fix.
    const credential = tenantOk ? { ok: true as const } : await tenant.checkCredential();
    res.status(storeOk && tenantOk ? 200 : 503);
    res.json({
      store: storeOk ? 'ok' : 'unavailable',
      tenant: tenantOk ? 'ok' : credential.ok || credential.unreachable ? 'unreachable' : 'credential-rejected',
      ...(credential.ok || credential.unreachable ? {} : { credential: { setting: credential.setting, reason: credential.reason } }),
    });
  });

  // The audit tab (/tab) and its APIs; without a bot app id (local mode) it signs in through the simulator.
  const tabTokens = new UserTokenValidator(config);
  registerTab(server, { config, store, tenant, tokens: tabTokens, logger, now, localMode: edge.anonymous });

  // A bad credential is reported at start-up, naming the setting, without stopping the bot: /healthz keeps saying so.
  void tenant.checkCredential().then((check) => {
    if (!check.ok && !check.unreachable) logger.error({ setting: check.setting, reason: check.reason }, `Microsoft 365 refused the bot's credential: check ${check.setting}`);
  });

  // Production: every interface ('::' is dual-stack on Linux). Local mode: both loopback addresses only.
  const listenOn = (target: { listen: (port: number, host: string, cb: () => void) => unknown; once: (event: 'error', cb: (e: Error) => void) => unknown }, port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      target.once('error', reject);
      target.listen(port, host, () => resolve());
    });
  keepConnectionsOpen(server.server);
  await listenOn(server, config.PORT, localMode ? '127.0.0.1' : '::');
  const port = (server.address() as { port: number }).port;
  let ipv6Loopback: HttpServer | undefined;
  if (localMode) {
    ipv6Loopback = createHttpServer((req, res) => server.server.emit('request', req, res));
    keepConnectionsOpen(ipv6Loopback);
    await listenOn(ipv6Loopback, port, '::1').catch((error: unknown) => {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'local mode: ::1 unavailable, listening on 127.0.0.1 only');
      ipv6Loopback = undefined;
    });
  }
  jobs.start(config.JOB_INTERVAL_MS);
  return {
    url: `http://localhost:${port}`,
    port,
    store,
    dispatcher,
    runDueJobs: () => jobs.runDue(),
    drain: () => bot.drain(),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => (ipv6Loopback ? ipv6Loopback.close(() => resolve()) : resolve()));
      await jobs.stop();
      await bot.drain();
      await tenant.close();
      await tabTokens.close();
      await store.close();
    },
  };
}
