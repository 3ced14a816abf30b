import * as AC from 'adaptivecards';
import { orgStatusCard, type OrgStatusView } from '../../src/cards/org-status';
import { languages, translator } from '../../src/i18n';

const view: OrgStatusView = {
  status: {
    orgSmtpClientAuthenticationDisabled: true,
    securityDefaultsEnabled: false,
    conditionalAccessPolicyCount: 3,
    legacyAuthBlocks: [
      { id: 'p1', displayName: 'Block legacy authentication', state: 'enabled', excludedGroups: 1, excludedUsers: 0 },
      { id: 'p2', displayName: 'MFA everyone (pilot)', state: 'enabledForReportingButNotEnforced', excludedGroups: 0, excludedUsers: 2 },
    ],
    authenticationPolicies: [
      { name: 'Block Basic Auth', allowBasicAuthSmtp: false, isDefault: true, assignedUsers: 0 },
      { name: 'Allow Basic SMTP', allowBasicAuthSmtp: true, isDefault: false, assignedUsers: 4 },
    ],
    defaultAuthenticationPolicy: 'Block Basic Auth',
    mailboxes: { on: 2, off: 31, inherit: 190 },
    explicitlyOnUserIds: ['u1', 'u2'],
  },
  exceptions: { active: 5, permanent: 1, endingSoon: 2, unmanaged: 3 },
};

function shownText(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(shownText);
  if (!node || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  const own = ['text', 'title', 'value'].map((k) => o[k]).filter((v): v is string => typeof v === 'string');
  return [...own, ...Object.values(o).flatMap(shownText)];
}

describe.each(languages)('org-status card in %s', (language) => {
  const card = orgStatusCard(translator(language), view);
  const text = shownText(card).join('\n');

  test('is a valid Adaptive Card with no placeholder or key left unfilled', () => {
    const parsed = new AC.AdaptiveCard();
    const context = new AC.SerializationContext();
    parsed.parse(card, context);
    expect(context.eventCount).toBe(0);
    expect(parsed.validateProperties().validationEvents).toEqual([]);
    expect(text).not.toMatch(/\{\{|policy\.orgStatus/);
  });

  test('shows every layer with its numbers, each policy by name, and the retirement notice', () => {
    for (const value of ['Block legacy authentication', 'MFA everyone (pilot)', 'Block Basic Auth', 'Allow Basic SMTP', 'MC786329', '2026', '2027', '190', '31', 'Set-TransportConfig']) {
      expect(text).toContain(value);
    }
    // The register: 5 active, 1 permanent, 2 ending soon, 3 unmanaged, all in one sentence.
    expect(text).toMatch(/5[^\n]*1[^\n]*2[^\n]*3/);
  });
});

test('in English it says what an admin needs to act on', () => {
  const text = shownText(orgStatusCard(translator('en'), view)).join('\n');
  expect(text).toContain('Off for every mailbox that inherits');
  expect(text).toContain('Block legacy authentication: enforced; excluded groups: 1, excluded users: 0');
  expect(text).toContain('MFA everyone (pilot): report-only (logs, does not block)');
  expect(text).toContain('Block Basic Auth (organization default, applies to every user without one of their own): blocks Basic SMTP');
  expect(text).toContain('2 on by their own setting, 31 off by their own setting, 190 inherit');
  expect(text).toContain('turns Basic authentication for SMTP AUTH off by default in existing tenants; admins can turn it back on');
});
