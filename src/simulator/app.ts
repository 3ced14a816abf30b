import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { formatPath } from './fixture';
import { RESOURCES, GRAPH_RESOURCE, EXCHANGE_RESOURCE } from './tokens';

/**
 * The simulated tenant's view of SMTP Gate's app registration: which application permissions
 * are consented (they become the token's `roles` claim), which Exchange management roles the
 * service principal holds (Exchange checks those server-side, per cmdlet), and which
 * credentials Entra accepts. By default it holds everything and accepts any secret or
 * well-formed assertion, so a newcomer's local mode just works.
 */
export interface AppRegistration {
  /** Microsoft Graph application permissions in Graph tokens' `roles`. */
  graphRoles: string[];
  /** Office 365 Exchange Online application permissions in Exchange tokens' `roles`. */
  exchangeRoles: string[];
  /** Exchange RBAC management roles assigned to the service principal (through a role group or directly). */
  exchangeManagementRoles: string[];
  /** Client secrets Entra accepts; null = any. */
  clientSecrets: string[] | null;
  /** PEM certificates whose keys may sign client assertions; null = any well-formed assertion. */
  certificates: string[] | null;
}

export const EXCHANGE_MANAGEMENT_ROLES = [
  'Mail Recipients',
  'View-Only Recipients',
  'Recipient Policies',
  'Organization Transport Settings',
  'Organization Configuration',
  'View-Only Configuration',
] as const;

export function defaultAppRegistration(): AppRegistration {
  return {
    graphRoles: [...(RESOURCES.find((resource) => resource.audience === GRAPH_RESOURCE)?.roles ?? [])],
    exchangeRoles: [...(RESOURCES.find((resource) => resource.audience === EXCHANGE_RESOURCE)?.roles ?? [])],
    exchangeManagementRoles: [...EXCHANGE_MANAGEMENT_ROLES],
    clientSecrets: null,
    certificates: null,
  };
}

const pemCertificate = z.string().refine(
  (pem) => {
    try {
      new X509Certificate(pem);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected a PEM certificate' },
);

const appRegistrationPatchSchema = z.strictObject({
  graphRoles: z.array(z.string().min(1)).optional(),
  exchangeRoles: z.array(z.string().min(1)).optional(),
  exchangeManagementRoles: z.array(z.string().min(1)).optional(),
  clientSecrets: z.array(z.string().min(1)).nullable().optional(),
  certificates: z.array(pemCertificate).nullable().optional(),
});

export type AppRegistrationPatch = z.infer<typeof appRegistrationPatchSchema>;

export function parseAppRegistrationPatch(json: unknown): { ok: true; patch: AppRegistrationPatch } | { ok: false; problems: string[] } {
  const result = appRegistrationPatchSchema.safeParse(json);
  if (result.success) return { ok: true, patch: result.data };
  return { ok: false, problems: result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`) };
}

export function applyAppRegistrationPatch(app: AppRegistration, patch: AppRegistrationPatch): AppRegistration {
  return {
    graphRoles: patch.graphRoles ?? app.graphRoles,
    exchangeRoles: patch.exchangeRoles ?? app.exchangeRoles,
    exchangeManagementRoles: patch.exchangeManagementRoles ?? app.exchangeManagementRoles,
    clientSecrets: patch.clientSecrets !== undefined ? patch.clientSecrets : app.clientSecrets,
    certificates: patch.certificates !== undefined ? patch.certificates : app.certificates,
  };
}

/** What `GET /_simulator/app` shows: secrets are never echoed, certificates by thumbprint. */
export function describeAppRegistration(app: AppRegistration): Record<string, unknown> {
  return {
    graphRoles: app.graphRoles,
    exchangeRoles: app.exchangeRoles,
    exchangeManagementRoles: app.exchangeManagementRoles,
    clientSecrets: app.clientSecrets === null ? 'any' : `${app.clientSecrets.length} configured`,
    certificates: app.certificates === null ? 'any' : app.certificates.map((pem) => new X509Certificate(pem).fingerprint256),
  };
}
