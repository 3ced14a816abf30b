import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import type { Config } from '../config';

/** Resource scopes: the same in local mode; only the hosts the calls go to change. */
export const graphScope = 'https://graph.microsoft.com/.default';
export const exchangeScope = 'https://outlook.office365.com/.default';

export function createTenantCredential(config: Config): TokenCredential {
  return new ClientSecretCredential(config.TENANT_ID, config.TENANT_CLIENT_ID, config.TENANT_CLIENT_SECRET, {
    authorityHost: config.AUTHORITY_HOST,
    // The simulator is not a known Entra cloud; instance discovery would go to login.microsoftonline.com.
    disableInstanceDiscovery: config.AUTHORITY_HOST !== 'https://login.microsoftonline.com',
    agent: config.TENANT_CA_FILE ? new Agent({ ca: readFileSync(config.TENANT_CA_FILE, 'utf8'), keepAlive: true }) : undefined,
  });
}
