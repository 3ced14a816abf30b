import { isLoopbackHost, isLocalMode, type Config } from '../config';

/**
 * The hosts an activity's `serviceUrl` may name: the Bot Connector the bot will call back with its
 * token. Anything else (another server, the simulator's control API, a URL with credentials or a
 * query) would make the bot post wherever an activity says (issue #13, hole 3). Teams' service URLs
 * per cloud are Microsoft's (TeamsServiceEndpoints in the Agents SDK); other Bot Framework channels
 * answer on botframework.com (botframework.azure.us in the US government clouds).
 */
const cloudHosts: Record<Config['BOT_CLOUD'], { exact: string[]; suffixes: string[] }> = {
  public: { exact: ['smba.trafficmanager.net'], suffixes: ['.botframework.com'] },
  gcc: { exact: ['smba.infra.gcc.teams.microsoft.com'], suffixes: ['.botframework.com'] },
  gcchigh: { exact: ['smba.infra.gov.teams.microsoft.us'], suffixes: ['.botframework.azure.us'] },
  dod: { exact: ['smba.infra.dod.teams.microsoft.us'], suffixes: ['.botframework.azure.us'] },
};

export type ServiceUrlCheck = { ok: true } | { ok: false; problem: string };

export function checkServiceUrl(serviceUrl: string, config: Config): ServiceUrlCheck {
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return { ok: false, problem: 'is not an absolute URL' };
  }
  if (url.username || url.password) return { ok: false, problem: 'must not carry user information' };
  if (url.search || url.hash || serviceUrl.includes('?') || serviceUrl.includes('#')) return { ok: false, problem: 'must not carry a query or a fragment' };
  const host = url.hostname.toLowerCase();
  if (isLocalMode(config)) {
    // Local mode: the Agents Playground and test connectors, on this machine — never the simulator.
    if (!isLoopbackHost(host)) return { ok: false, problem: 'must be a loopback address in local mode' };
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, problem: 'must be http or https' };
    const tenantOrigins = [config.AUTHORITY_HOST, config.GRAPH_BASE_URL, config.EXCHANGE_BASE_URL].map((u) => new URL(u).origin);
    if (tenantOrigins.includes(url.origin)) return { ok: false, problem: 'must not be the tenant simulator' };
    return { ok: true };
  }
  if (url.protocol !== 'https:') return { ok: false, problem: 'must be https' };
  if (url.port && url.port !== '443') return { ok: false, problem: 'must use the default https port' };
  const allowed = cloudHosts[config.BOT_CLOUD];
  if (allowed.exact.includes(host) || allowed.suffixes.some((suffix) => host.endsWith(suffix))) return { ok: true };
  return { ok: false, problem: `is not a Bot Framework or Teams service host of the ${config.BOT_CLOUD} cloud` };
}
