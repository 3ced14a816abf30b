import * as AC from 'adaptivecards';
import { diagnosisCard } from '../../src/cards/diagnosis';
import { parseBounce } from '../../src/diagnosis/bounce';
import { diagnose, type Diagnosis } from '../../src/diagnosis/diagnose';
import { translator } from '../../src/i18n';
import type { Tenant } from '../../src/tenant';
import { evaluateSmtpAuth } from '../../src/tenant/evaluate';
import { loadFixture } from '../../src/simulator/fixture';
import { DEMO_FIXTURE_PATH } from '../simulator/simulatorClient';
import { connect, startTestSimulator, type TestSimulator } from '../tenant/tenantHarness';

/**
 * The bounce joined with the tenant's state through the one evaluation, over the demo tenant in the
 * simulator (HTTPS): every state finding, the fix steps in their safe order, and the cards' wording.
 */
const NOW = new Date('2026-11-23T12:00:00Z');
const en = translator('en');

describe('diagnosis over the demo tenant', () => {
  let sim: TestSimulator;
  let tenant: Tenant;

  const diagnosisOf = async (upn: string, pasted?: string): Promise<Diagnosis> => {
    const user = await tenant.directory.getUser(upn);
    if (!user) throw new Error(`no ${upn} in the fixture`);
    const evaluation = await evaluateSmtpAuth(tenant, user, { now: () => NOW });
    return diagnose(user, evaluation, pasted ? parseBounce(pasted) : undefined, Boolean(pasted));
  };
  const codes = (d: Diagnosis) => d.findings.map((f) => f.code);
  const text = (d: Diagnosis, audience: 'user' | 'it', groupNames: Record<string, string> = {}) => {
    const card = diagnosisCard(en, { diagnosis: d, audience, groupNames, offerFix: audience === 'it' && d.fixSteps.length > 0 });
    const parsed = new AC.AdaptiveCard();
    const context = new AC.SerializationContext();
    parsed.parse(card, context);
    expect(context.eventCount).toBe(0);
    expect(parsed.validateProperties().validationEvents).toEqual([]);
    return JSON.stringify(card.body.map((b) => b.text ?? ''));
  };

  beforeAll(async () => {
    sim = await startTestSimulator();
    tenant = connect(sim);
  });
  afterAll(async () => {
    await tenant.close();
    await sim.stop();
  });
  // Each test resets the tenant behind SMTP Gate's back: start without the organization-wide copy.
  beforeEach(async () => {
    await sim.call('POST', '/_simulator/reset');
    tenant.orgSettings.invalidate();
  });

  test('bob pastes a mailbox 5.7.139: the bounce, confirmed by his mailbox, then CA, failures and the retirement advice; one step (the mailbox)', async () => {
    const d = await diagnosisOf('bob@contoso.com', "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.");
    expect(codes(d)).toEqual(['SMTP_AUTH_DISABLED_MAILBOX', 'SMTP_AUTH_DISABLED_MAILBOX', 'CA_BLOCKS_LEGACY_AUTH', 'RECENT_SMTP_FAILURES', 'BASIC_AUTH_RETIREMENT']);
    expect(d.findings.map((f) => `${f.source}:${f.severity}:${f.remedy}`)).toEqual(['bounce:blocker:step', 'state:blocker:step', 'state:blocker:admin', 'state:warning:info', 'state:info:info']);
    expect(d.fixSteps).toEqual(['mailbox-smtp-enable']);
    const it = text(d, 'it', { '95ff6a05-85e6-53fb-b73c-1f2337f7a339': 'SMTP AUTH exceptions' });
    // What the bot cannot change: the exact place in the Entra admin center and the group to add him to.
    expect(it).toContain('Entra ID › Conditional Access › Policies › “Block legacy authentication” › Assignments › Users › Exclude: the policy already excludes the group “SMTP AUTH exceptions”. Add Bob Smith to that group');
    expect(it).toContain('Set-CASMailbox -Identity bob@contoso.com -SmtpClientAuthenticationDisabled $false');
    expect(it).toContain('OAuth 2.0 (XOAUTH2) with the SMTP.SendAsApp permission');
    expect(it).toContain('a scanner or printer → a connector relay');
    expect(it).toContain('OAuth SMTP still needs SMTP AUTH turned on for the mailbox');
    expect(it).toContain('end of December 2026');
    expect(it).toContain('second half of 2027');
  });

  test('Bob Jones follows the organization (off): the mailbox step, never the organization-wide one', async () => {
    const d = await diagnosisOf('bob.jones@contoso.com', 'I got a 5.7.57');
    expect(codes(d)).toEqual(['CLIENT_NOT_AUTHENTICATED', 'SMTP_AUTH_DISABLED_TENANT', 'CA_BLOCKS_LEGACY_AUTH', 'BASIC_AUTH_RETIREMENT']);
    expect(d.fixSteps).toEqual(['mailbox-smtp-enable']);
    expect(text(d, 'it')).toContain('leave the organization setting as it is');
  });

  test('José: mailbox off, per-user MFA and an authentication policy: three steps, mailbox first', async () => {
    const d = await diagnosisOf('jose.nunez@contoso.com');
    expect(d.findings.filter((f) => f.severity === 'blocker').map((f) => f.code)).toEqual(expect.arrayContaining(['SMTP_AUTH_DISABLED_MAILBOX', 'PER_USER_MFA_ON', 'AUTH_POLICY_BLOCKS_BASIC_SMTP']));
    expect(d.fixSteps).toEqual(['mailbox-smtp-enable', 'per-user-mfa-disable', 'auth-policy-allow-smtp']);
  });

  test('Alex: per-user MFA enforced is what blocks (besides the org setting and CA)', async () => {
    const d = await diagnosisOf('alexw@contoso.com');
    expect(codes(d)).toContain('PER_USER_MFA_ON');
    expect(d.fixSteps).toEqual(['mailbox-smtp-enable', 'per-user-mfa-disable']);
  });

  test('王伟: nothing blocks, no step; a pasted 5.1.1 is named for what it is', async () => {
    const d = await diagnosisOf('wang.wei@contoso.com', "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found");
    expect(codes(d)).toEqual(['NOT_SMTP_AUTH', 'SMTP_AUTH_ENABLED', 'BASIC_AUTH_RETIREMENT']);
    expect(d.effectiveEnabled).toBe(true);
    expect(d.fixSteps).toEqual([]);
    const user = text(d, 'user');
    expect(user).toContain("This bounce (5.1.1) isn't about signing in to send mail.");
    expect(user).toContain('SMTP AUTH is allowed for your mailbox right now.');
  });

  test('Lidia has no mailbox: NO_MAILBOX, the licence to check, and no step', async () => {
    const d = await diagnosisOf('lidiah@contoso.com');
    expect(codes(d)[0]).toBe('NO_MAILBOX');
    expect(d.fixSteps).toEqual([]);
    expect(text(d, 'it')).toContain('Assign a license that includes Exchange Online');
  });

  test('Grady\'s account is disabled: ACCOUNT_DISABLED, where to enable it', async () => {
    const d = await diagnosisOf('gradya@contoso.com');
    expect(codes(d)).toContain('ACCOUNT_DISABLED');
    expect(text(d, 'it')).toContain('Edit properties › Settings › Account enabled');
  });

  test('security defaults on: tenant-wide, last in the plan, after the mailbox', async () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    fixture.org.securityDefaultsEnabled = true;
    await sim.call('POST', '/_simulator/reset', { json: fixture });
    tenant.orgSettings.invalidate();
    const d = await diagnosisOf('scanner2@contoso.com', "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.");
    expect(codes(d).slice(0, 3)).toEqual(['SECURITY_DEFAULTS_BLOCK', 'SMTP_AUTH_DISABLED_MAILBOX', 'SECURITY_DEFAULTS_ON']);
    expect(d.fixSteps).toEqual(['mailbox-smtp-enable', 'security-defaults-disable']);
    expect(text(d, 'it')).toContain('turning them off is a critical change');
  });

  test('an unclassified 5.7.139 names the causes the tenant\'s state shows for this mailbox', async () => {
    const d = await diagnosisOf('bob@contoso.com', '535 5.7.139 Authentication unsuccessful');
    expect(codes(d)[0]).toBe('AUTH_UNSUCCESSFUL');
    expect(text(d, 'it')).toContain('Possible causes: the mailbox setting (SmtpClientAuthenticationDisabled = $true); Conditional Access policy “Block legacy authentication”');
  });

  test('a bounce from before the mailbox was switched on says so instead of asking for the change again', async () => {
    const d = await diagnosisOf('adelev@contoso.com', 'SmtpClientAuthentication is disabled for the Mailbox');
    expect(d.findings[0]).toMatchObject({ code: 'SMTP_AUTH_DISABLED_MAILBOX', severity: 'info', detail: { since: 'changed' } });
    expect(text(d, 'user')).toContain('this bounce is from before it was changed');
  });

  test('every string of the card exists in all five languages (no key shown raw)', async () => {
    const d = await diagnosisOf('jose.nunez@contoso.com', '530 5.7.57 Client not authenticated');
    for (const language of ['en', 'es', 'pt', 'zh-CN', 'ro'] as const) {
      for (const audience of ['user', 'it'] as const) {
        const shown = JSON.stringify(diagnosisCard(translator(language), { diagnosis: d, audience, offerFix: true }).body);
        expect(shown).not.toMatch(/diagnosis\.|finding\.|blocker\./);
      }
    }
  });
});
