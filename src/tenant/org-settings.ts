import type { ConditionalAccessPolicy } from './directory';
import type { AuthenticationPolicy } from './exchange';

/** The organization-wide layers of an evaluation: the same for every mailbox of the tenant. */
export interface OrgSettings {
  orgSmtpClientAuthenticationDisabled: boolean;
  defaultAuthenticationPolicy: string | null;
  authenticationPolicies: AuthenticationPolicy[];
  securityDefaultsEnabled: boolean;
  conditionalAccessPolicies: ConditionalAccessPolicy[];
}

/** How long organization-wide settings are reused before they are read again. */
export const ORG_SETTINGS_TTL_MS = 60_000;

/**
 * Organization-wide settings (security defaults, Conditional Access policies, Get-TransportConfig,
 * Get-OrganizationConfig, Get-AuthenticationPolicy), reused briefly across evaluations instead of
 * being read again for every mailbox. Any write SMTP Gate sends to the tenant drops them, and a read
 * that was under way while a write went out is not kept (its answer may predate the write).
 * A mailbox's own values are never kept here.
 */
export class OrgSettingsCache {
  private entry: { settings: OrgSettings; readAt: Date } | undefined;
  private version = 0;

  constructor(private readonly ttlMs = ORG_SETTINGS_TTL_MS) {}

  /** The settings and when they were read, if read less than the TTL before `now`. */
  fresh(now: Date): { settings: OrgSettings; readAt: Date } | undefined {
    const entry = this.entry;
    if (!entry) return undefined;
    const age = now.getTime() - entry.readAt.getTime();
    return age >= 0 && age < this.ttlMs ? entry : undefined;
  }

  /** Take before reading; hand back to {@link keep} so a write in between discards the read. */
  get generation(): number {
    return this.version;
  }

  keep(generation: number, settings: OrgSettings, readAt: Date): void {
    if (generation === this.version) this.entry = { settings, readAt };
  }

  /** Called around every write to the tenant. */
  invalidate(): void {
    this.version += 1;
    this.entry = undefined;
  }
}
