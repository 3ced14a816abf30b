import type { Translate } from '../i18n';
import type { OrgSmtpStatus } from '../tenant/org-status';
import type { AdaptiveCard } from './card';

/** The exceptions register in numbers (the `exceptions` command lists them one by one). */
export interface ExceptionCounts {
  active: number;
  permanent: number;
  /** Active ones that end within the next 7 days. */
  endingSoon: number;
  /** Mailboxes with SMTP AUTH on by their own setting and no request behind it. */
  unmanaged: number;
}

export interface OrgStatusView {
  status: OrgSmtpStatus;
  exceptions: ExceptionCounts;
}

const text = (value: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text: value, wrap: true, ...extra });
const section = (title: string) => text(title, { weight: 'Bolder', spacing: 'Medium' });
const line = (value: string) => text(`• ${value}`, { spacing: 'Small' });

/** `org-status`: every organization-wide layer that decides SMTP AUTH, then the register and the retirement notice. */
export function orgStatusCard(t: Translate, view: OrgStatusView): AdaptiveCard {
  const { status, exceptions } = view;
  const body: Record<string, unknown>[] = [
    text(t('policy.orgStatus.title'), { weight: 'Bolder', size: 'Medium' }),
    text(t('policy.orgStatus.intro'), { isSubtle: true, spacing: 'None' }),
    {
      type: 'FactSet',
      facts: [
        { title: t('policy.orgStatus.org.label'), value: t(status.orgSmtpClientAuthenticationDisabled ? 'policy.orgStatus.org.off' : 'policy.orgStatus.org.on') },
        { title: t('policy.orgStatus.securityDefaults.label'), value: t(status.securityDefaultsEnabled ? 'policy.orgStatus.securityDefaults.on' : 'policy.orgStatus.securityDefaults.off') },
        {
          title: t('policy.orgStatus.mailboxes.label'),
          value: t('policy.orgStatus.mailboxes.counts', { on: status.mailboxes.on, off: status.mailboxes.off, inherit: status.mailboxes.inherit }),
        },
      ],
    },
  ];

  body.push(section(t('policy.orgStatus.ca.label', { count: status.conditionalAccessPolicyCount })));
  if (status.legacyAuthBlocks.length === 0) body.push(line(t('policy.orgStatus.ca.none')));
  for (const block of status.legacyAuthBlocks) {
    body.push(line(t('policy.orgStatus.ca.line', {
      name: block.displayName,
      state: t(block.state === 'enabled' ? 'policy.orgStatus.ca.enforced' : 'policy.orgStatus.ca.reportOnly'),
      groups: block.excludedGroups,
      users: block.excludedUsers,
    })));
  }

  body.push(section(t('policy.orgStatus.authPolicies.label')));
  if (status.authenticationPolicies.length === 0) body.push(line(t('policy.orgStatus.authPolicies.none')));
  for (const policy of status.authenticationPolicies) {
    body.push(line(t(policy.isDefault ? 'policy.orgStatus.authPolicies.lineDefault' : 'policy.orgStatus.authPolicies.line', {
      name: policy.name,
      smtp: t(policy.allowBasicAuthSmtp ? 'policy.orgStatus.authPolicies.allows' : 'policy.orgStatus.authPolicies.blocks'),
      users: policy.assignedUsers,
    })));
  }

  body.push(section(t('policy.orgStatus.exceptions.label')));
  body.push(line(t('policy.orgStatus.exceptions.counts', { ...exceptions })));

  body.push({
    type: 'Container',
    style: 'warning',
    spacing: 'Large',
    items: [text(t('policy.orgStatus.retirement.title'), { weight: 'Bolder' }), text(t('policy.orgStatus.retirement.text'), { spacing: 'Small' })],
  });
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4', body };
}
