import type { Tenant } from '../../src/tenant';
import { readOrgSmtpStatus } from '../../src/tenant/org-status';
import { connect, startTestSimulator, type TestSimulator } from './tenantHarness';

describe('readOrgSmtpStatus: every organization-wide SMTP AUTH layer in one read', () => {
  let sim: TestSimulator;
  let tenant: Tenant;

  beforeAll(async () => {
    sim = await startTestSimulator();
    tenant = connect(sim);
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });
  beforeEach(() => sim.call('POST', '/_simulator/reset'));

  test('the demo tenant: org off, no security defaults, the legacy-auth block and the report-only MFA policy, policies with their users, mailboxes counted', async () => {
    const status = await readOrgSmtpStatus(tenant);
    expect(status).toEqual({
      orgSmtpClientAuthenticationDisabled: true,
      securityDefaultsEnabled: false,
      conditionalAccessPolicyCount: 2,
      legacyAuthBlocks: [
        { id: 'b36ef0f7-5bff-542c-a32a-dcfdb3f4d416', displayName: 'Block legacy authentication', state: 'enabled', excludedGroups: 1, excludedUsers: 0 },
        { id: '2990c8a5-a5fb-5177-bf04-9fb54aa8fe88', displayName: 'Require MFA for all users (report-only)', state: 'enabledForReportingButNotEnforced', excludedGroups: 0, excludedUsers: 0 },
      ],
      authenticationPolicies: [
        { name: 'Block Basic Auth', allowBasicAuthSmtp: false, isDefault: false, assignedUsers: 1 },
        { name: 'Allow Basic SMTP', allowBasicAuthSmtp: true, isDefault: false, assignedUsers: 0 },
      ],
      defaultAuthenticationPolicy: null,
      mailboxes: { on: 2, off: 3, inherit: 6 },
      explicitlyOnUserIds: ['adelev@contoso.com', 'wang.wei@contoso.com'].map((upn) => sim.fixture.users.find((user) => user.userPrincipalName === upn)!.id),
    });
  });

  test('it follows the tenant as it changes: org on, a mailbox switched, a policy assigned', async () => {
    await tenant.exchange.setTransportConfigSmtpClientAuthenticationDisabled(false);
    await tenant.exchange.setCasMailboxSmtpClientAuthenticationDisabled('bob', false);
    await tenant.exchange.setUserAuthenticationPolicy('bob', 'Allow Basic SMTP');
    const status = await readOrgSmtpStatus(tenant);
    expect(status.orgSmtpClientAuthenticationDisabled).toBe(false);
    expect(status.mailboxes).toEqual({ on: 3, off: 2, inherit: 6 });
    expect(status.authenticationPolicies.find((policy) => policy.name === 'Allow Basic SMTP')?.assignedUsers).toBe(1);
  });
});
