import type { Config } from '../config';
import { createTenantCredential } from './credential';
import { GraphDirectory } from './directory';
import { ExchangeAdmin } from './exchange';
import { TenantHttp, type RetryPolicy, type TenantHttpHooks } from './http';

export interface Tenant {
  directory: GraphDirectory;
  exchange: ExchangeAdmin;
  close(): Promise<void>;
}

/** Wires the two ports to their real adapters; local mode differs only in the configuration. */
export function connectTenant(config: Config, policy: Partial<RetryPolicy> = {}, hooks: TenantHttpHooks = {}): Tenant {
  const credential = createTenantCredential(config);
  const retry = { attemptTimeoutMs: config.TENANT_TIMEOUT_MS, maxRetries: config.TENANT_MAX_RETRIES, ...policy };
  const graphHttp = new TenantHttp({ service: 'graph', caFile: config.TENANT_CA_FILE, policy: retry, ...hooks });
  const exchangeHttp = new TenantHttp({ service: 'exchange', caFile: config.TENANT_CA_FILE, policy: retry, ...hooks });
  return {
    directory: new GraphDirectory(credential, config.GRAPH_BASE_URL, graphHttp),
    exchange: new ExchangeAdmin(credential, config.EXCHANGE_BASE_URL, config.TENANT_ID, exchangeHttp),
    close: async () => { await Promise.all([graphHttp.close(), exchangeHttp.close()]); },
  };
}

export type { DirectoryUser, UserResolution } from './directory';
export type { GraphDirectory } from './directory';
export type { ExchangeAdmin } from './exchange';
