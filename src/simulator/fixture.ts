import { readFileSync } from 'node:fs';
import { z } from 'zod';

// The tenant fixture contract (described in src/simulator/README.md); this schema is its executable form.

const guid = z.guid({ error: 'expected a GUID' });
const nonEmpty = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });

const mailboxSchema = z.strictObject({
  smtpClientAuthenticationDisabled: z.boolean({ error: 'expected true, false or null' }).nullable(),
});

// Graph signIn shape (subset); extra Graph properties pass through to the API unchanged.
const signInSchema = z.looseObject({
  createdDateTime: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time such as 2026-11-20T08:15:00Z' }),
  clientAppUsed: nonEmpty,
  status: z.looseObject({
    errorCode: z.number({ error: 'expected a number (0 = success)' }).int(),
    failureReason: z.string().nullable().optional(),
  }),
});

const userSchema = z.strictObject({
  id: guid,
  displayName: nonEmpty,
  userPrincipalName: z.email({ error: 'expected a user principal name such as bob@contoso.com' }),
  mail: z.email({ error: 'expected an email address or null' }).nullable(),
  givenName: z.string().nullable(),
  surname: z.string().nullable(),
  preferredLanguage: z.string().nullable(),
  accountEnabled: z.boolean({ error: 'expected true or false' }),
  mailbox: mailboxSchema.nullable(),
  perUserMfaState: z.enum(['disabled', 'enabled', 'enforced'], {
    error: "expected 'disabled', 'enabled' or 'enforced'",
  }),
  authenticationPolicy: z.string().nullable().optional(),
  /** Optional (default false): the user has registered an MFA method, so per-user MFA set to enabled becomes enforced, as in Entra. */
  isMfaRegistered: z.boolean({ error: 'expected true or false' }).optional(),
  signIns: z.array(signInSchema).optional(),
});

const groupSchema = z.strictObject({
  id: guid,
  displayName: nonEmpty,
  mailNickname: nonEmpty,
  members: z.array(guid),
});

// Graph conditionalAccessPolicy shape: only the fields the evaluation reads are checked.
const conditionalAccessPolicySchema = z.looseObject({
  id: guid,
  displayName: nonEmpty,
  state: z.enum(['enabled', 'disabled', 'enabledForReportingButNotEnforced'], {
    error: "expected 'enabled', 'disabled' or 'enabledForReportingButNotEnforced'",
  }),
  conditions: z.looseObject({
    clientAppTypes: z.array(z.string()),
    users: z.looseObject({
      includeUsers: z.array(z.string()),
      excludeUsers: z.array(z.string()),
      includeGroups: z.array(z.string()),
      excludeGroups: z.array(z.string()),
    }),
  }),
  grantControls: z
    .looseObject({
      operator: z.string(),
      builtInControls: z.array(z.string()),
    })
    .nullable(),
});

/** The AllowBasicAuth* switches of New-AuthenticationPolicy other than SMTP; optional in fixtures (default false, as for a new policy). */
export const OTHER_BASIC_AUTH_PROTOCOLS = ['ActiveSync', 'Autodiscover', 'Imap', 'Mapi', 'OfflineAddressBook', 'OutlookService', 'Pop', 'Powershell', 'ReportingWebServices', 'Rpc', 'WebServices'] as const;

const authenticationPolicySchema = z.strictObject({
  name: nonEmpty,
  allowBasicAuthSmtp: z.boolean({ error: 'expected true or false' }),
  ...(Object.fromEntries(OTHER_BASIC_AUTH_PROTOCOLS.map((protocol) => [`allowBasicAuth${protocol}`, z.boolean({ error: 'expected true or false' }).optional()])) as Record<
    `allowBasicAuth${(typeof OTHER_BASIC_AUTH_PROTOCOLS)[number]}`,
    z.ZodOptional<z.ZodBoolean>
  >),
});

const fixtureSchema = z.strictObject({
  tenant: z.strictObject({
    id: guid,
    displayName: nonEmpty,
    domains: z.array(nonEmpty).min(1, { error: 'list at least one domain' }),
    entraP1: z.boolean({ error: 'expected true or false' }),
  }),
  org: z.strictObject({
    smtpClientAuthenticationDisabled: z.boolean({ error: 'expected true or false' }),
    securityDefaultsEnabled: z.boolean({ error: 'expected true or false' }),
    defaultAuthenticationPolicy: z.string().nullable().optional(),
  }),
  authenticationPolicies: z.array(authenticationPolicySchema).optional(),
  users: z.array(userSchema),
  groups: z.array(groupSchema).optional(),
  conditionalAccessPolicies: z.array(conditionalAccessPolicySchema).optional(),
  localMode: z
    .strictObject({
      itStaffGroupId: guid,
      approverGroupId: guid,
    })
    .optional(),
});

export type TenantFixture = z.infer<typeof fixtureSchema>;
export type FixtureUser = TenantFixture['users'][number];
export type FixtureGroup = NonNullable<TenantFixture['groups']>[number];
export type FixtureSignIn = NonNullable<FixtureUser['signIns']>[number];
export type FixtureConditionalAccessPolicy = NonNullable<TenantFixture['conditionalAccessPolicies']>[number];
export type FixtureAuthenticationPolicy = NonNullable<TenantFixture['authenticationPolicies']>[number];

export class FixtureError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source?: string) {
    const heading = source ? `Invalid tenant fixture ${source}:` : 'Invalid tenant fixture:';
    super([heading, ...problems.map((problem) => `  ${problem}`)].join('\n'));
    this.name = 'FixtureError';
    this.problems = problems;
  }
}

/** Renders a zod path the way the fixture format documents it: `users[3].mailbox.smtpClientAuthenticationDisabled`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let rendered = '';
  for (const key of path) {
    if (typeof key === 'number') rendered += `[${key}]`;
    else rendered += rendered === '' ? String(key) : `.${String(key)}`;
  }
  return rendered === '' ? '(root)' : rendered;
}

function crossCheck(fixture: TenantFixture): string[] {
  const problems: string[] = [];
  const domains = new Set(fixture.tenant.domains.map((domain) => domain.toLowerCase()));
  const userIndexById = new Map<string, number>();
  const userIndexByUpn = new Map<string, number>();

  fixture.users.forEach((user, index) => {
    const id = user.id.toLowerCase();
    const seenId = userIndexById.get(id);
    if (seenId !== undefined) problems.push(`users[${index}].id: duplicate user id '${user.id}' (also users[${seenId}])`);
    else userIndexById.set(id, index);

    const upn = user.userPrincipalName.toLowerCase();
    const seenUpn = userIndexByUpn.get(upn);
    if (seenUpn !== undefined) {
      problems.push(`users[${index}].userPrincipalName: duplicate '${user.userPrincipalName}' (also users[${seenUpn}])`);
    } else userIndexByUpn.set(upn, index);

    // Entra only accepts a UPN suffix, and Exchange a primary SMTP domain, that the tenant has verified.
    const upnDomain = upn.slice(upn.lastIndexOf('@') + 1);
    if (!domains.has(upnDomain)) {
      problems.push(`users[${index}].userPrincipalName: domain '${upnDomain}' is not one of tenant.domains`);
    }
    if (user.mail !== null) {
      const mailDomain = user.mail.toLowerCase().slice(user.mail.lastIndexOf('@') + 1);
      if (!domains.has(mailDomain)) problems.push(`users[${index}].mail: domain '${mailDomain}' is not one of tenant.domains`);
    }
  });

  const policyNames = new Set((fixture.authenticationPolicies ?? []).map((policy) => policy.name.toLowerCase()));
  const seenPolicies = new Set<string>();
  (fixture.authenticationPolicies ?? []).forEach((policy, index) => {
    const name = policy.name.toLowerCase();
    if (seenPolicies.has(name)) problems.push(`authenticationPolicies[${index}].name: duplicate policy name '${policy.name}'`);
    seenPolicies.add(name);
  });
  const defaultPolicy = fixture.org.defaultAuthenticationPolicy;
  if (defaultPolicy != null && !policyNames.has(defaultPolicy.toLowerCase())) {
    problems.push(`org.defaultAuthenticationPolicy: no authenticationPolicies entry named '${defaultPolicy}'`);
  }
  fixture.users.forEach((user, index) => {
    const policy = user.authenticationPolicy;
    if (policy != null && !policyNames.has(policy.toLowerCase())) {
      problems.push(`users[${index}].authenticationPolicy: no authenticationPolicies entry named '${policy}'`);
    }
  });

  const groupIds = new Set<string>();
  (fixture.groups ?? []).forEach((group, index) => {
    const id = group.id.toLowerCase();
    if (groupIds.has(id)) problems.push(`groups[${index}].id: duplicate group id '${group.id}'`);
    if (userIndexById.has(id)) problems.push(`groups[${index}].id: '${group.id}' is already a user id`);
    groupIds.add(id);
  });
  // A member is a user or, for nested groups, another group.
  (fixture.groups ?? []).forEach((group, index) => {
    group.members.forEach((member, memberIndex) => {
      if (!userIndexById.has(member.toLowerCase()) && !groupIds.has(member.toLowerCase())) {
        problems.push(`groups[${index}].members[${memberIndex}]: no user with id '${member}'`);
      }
    });
  });

  if (fixture.localMode) {
    for (const key of ['itStaffGroupId', 'approverGroupId'] as const) {
      const id = fixture.localMode[key];
      if (!groupIds.has(id.toLowerCase())) problems.push(`localMode.${key}: no group with id '${id}'`);
    }
  }
  return problems;
}

export function parseFixture(json: unknown, source?: string): TenantFixture {
  const result = fixtureSchema.safeParse(json);
  if (!result.success) {
    throw new FixtureError(
      result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`),
      source,
    );
  }
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new FixtureError(problems, source);
  return result.data;
}

export function loadFixture(path: string): TenantFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FixtureError([`cannot read the file: ${(error as Error).message}`], path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FixtureError([`invalid JSON: ${(error as Error).message}`], path);
  }
  return parseFixture(json, path);
}
