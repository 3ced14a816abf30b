import type { Config } from '../config';
import { checkTenantCredential, createTenantCredential } from './credential';
import { GraphDirectory } from './directory';
import { ExchangeAdmin } from './exchange';
import { TenantHttp, type RetryPolicy, type TenantHttpHooks } from './http';
import { OrgSettingsCache } from './org-settings';
import type { Tenant } from './tenant';

export type { Tenant } from './tenant';

/** Wires the two ports to their real adapters; local mode differs only in the configuration. */
export function connectTenant(config: Config, policy: Partial<RetryPolicy> = {}, hooks: TenantHttpHooks = {}): Tenant {
  const credential = createTenantCredential(config);
  const retry = { attemptTimeoutMs: config.TENANT_TIMEOUT_MS, maxRetries: config.TENANT_MAX_RETRIES, ...policy };
  const orgSettings = new OrgSettingsCache();
  const onWrite = () => orgSettings.invalidate();
  const graphHttp = new TenantHttp({ service: 'graph', caFile: config.TENANT_CA_FILE, policy: retry, ...hooks, onWrite });
  const exchangeHttp = new TenantHttp({ service: 'exchange', caFile: config.TENANT_CA_FILE, policy: retry, ...hooks, onWrite });
  return {
    orgSettings,
    directory: new GraphDirectory(credential, config.GRAPH_BASE_URL, graphHttp),
    exchange: new ExchangeAdmin(credential, config.EXCHANGE_BASE_URL, config.TENANT_ID, exchangeHttp),
    // Asks the library itself, so a refused credential is reported even while a token is still held.
    checkCredential: () => checkTenantCredential(config, credential.inner),
    close: async () => { await Promise.all([graphHttp.close(), exchangeHttp.close()]); },
  };
}

export type { DirectoryUser, GroupResolution, UserResolution } from './directory';
export type { GraphDirectory } from './directory';
export type { ExchangeAdmin } from './exchange';
export type { ConditionalAccessPolicy, DirectoryGroup, GraphBatchRequest, GraphBatchResponse, PerUserMfaState } from './directory';
export { securityDefaultsRefusal } from './directory';
export type { AuthenticationPolicy, UserAuthenticationPolicy } from './exchange';
export { blockersBeyondMailboxSetting, evaluateSmtpAuth, resolveAndEvaluate, snapshotOf, type Finding, type FindingCode, type FindingLayer, type SmtpAuthEvaluation } from './evaluate';
export type { CredentialCheck } from './credential';
export { OrgSettingsCache, ORG_SETTINGS_TTL_MS, type OrgSettings } from './org-settings';
export { setSmtpForGroup, setSmtpForUsers, type BulkItemResult, type BulkOptions, type BulkOutcome, type BulkProgress } from './bulk';
