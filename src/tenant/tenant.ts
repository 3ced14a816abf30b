import type { CredentialCheck } from './credential';
import type { GraphDirectory } from './directory';
import type { ExchangeAdmin } from './exchange';
import type { OrgSettingsCache } from './org-settings';

/** The tenant's two ports and what they share; `connectTenant` (index.ts) wires the real adapters. */
export interface Tenant {
  directory: GraphDirectory;
  exchange: ExchangeAdmin;
  /** Organization-wide settings reused briefly across evaluations; every write through this tenant drops them. */
  orgSettings: OrgSettingsCache;
  /** Asks Entra for both tokens; a refusal names the setting to fix (start-up and /healthz report it). */
  checkCredential(): Promise<CredentialCheck>;
  close(): Promise<void>;
}
