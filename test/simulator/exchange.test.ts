import { startTestSimulator, type TestSimulator } from './simulatorClient';

describe('simulated Exchange Online admin API', () => {
  let sim: TestSimulator;
  let token: string;
  const mailboxState = async (upn: string) =>
    (await sim.call('GET', '/_simulator/state')).json.users.find((user: { userPrincipalName: string }) => user.userPrincipalName === upn).mailbox;
  const exchangeCalls = async () => (await sim.call('GET', '/_simulator/calls')).json.filter((call: { service: string }) => call.service === 'exchange');

  beforeAll(async () => {
    sim = await startTestSimulator();
    token = await sim.token('https://outlook.office365.com/.default');
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.call('POST', '/_simulator/reset'));

  test('Get-CASMailbox finds a mailbox by alias, UPN, SMTP address or object id', async () => {
    const bob = sim.fixture.users.find((user) => user.userPrincipalName === 'bob@contoso.com');
    for (const identity of ['bob', 'BOB@contoso.com', 'bob@contoso.onmicrosoft.com', bob?.id as string]) {
      const result = await sim.invoke(token, 'Get-CASMailbox', { Identity: identity });
      expect(result.status).toBe(200);
      expect(result.json).toMatchObject({
        '@odata.context': `https://outlook.office365.com/adminapi/beta/${sim.tenantId}/$metadata#Collection(Exchange.GenericHashTable)`,
        value: [
          {
            Identity: 'bob',
            Name: 'bob',
            PrimarySmtpAddress: 'bob@contoso.com',
            ExternalDirectoryObjectId: bob?.id,
            SmtpClientAuthenticationDisabled: true,
          },
        ],
      });
    }
    const inherit = await sim.invoke(token, 'Get-CASMailbox', { Identity: 'bob.jones@contoso.com' });
    expect(inherit.json.value[0].SmtpClientAuthenticationDisabled).toBeNull();
  });

  test('Set-CASMailbox changes the live state and is logged once with its parameters', async () => {
    const result = await sim.invoke(token, 'Set-CASMailbox', { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false });
    expect(result.status).toBe(200);
    expect(result.json.value).toEqual([]);
    expect(await mailboxState('bob@contoso.com')).toEqual({ smtpClientAuthenticationDisabled: false });
    expect((await sim.invoke(token, 'Get-CASMailbox', { Identity: 'bob' })).json.value[0].SmtpClientAuthenticationDisabled).toBe(false);

    const sets = (await exchangeCalls()).filter((call: { cmdlet: string }) => call.cmdlet === 'Set-CASMailbox');
    expect(sets).toEqual([
      {
        at: expect.any(String),
        service: 'exchange',
        method: 'POST',
        path: `/adminapi/beta/${sim.tenantId}/InvokeCommand`,
        cmdlet: 'Set-CASMailbox',
        parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false },
        status: 200,
      },
    ]);

    await sim.invoke(token, 'Set-CASMailbox', { Identity: 'bob', SmtpClientAuthenticationDisabled: null });
    expect(await mailboxState('bob@contoso.com')).toEqual({ smtpClientAuthenticationDisabled: null });
    const unchanged = await sim.invoke(token, 'Set-CASMailbox', { Identity: 'bob', SmtpClientAuthenticationDisabled: null });
    expect(unchanged.json['@adminapi.warnings']).toEqual(["The command completed successfully but no settings of 'bob' have been modified."]);
  });

  test('a user without a mailbox, or an unknown identity, gets the ManagementObjectNotFoundException envelope', async () => {
    for (const identity of ['lidiah@contoso.com', 'ghost@contoso.com']) {
      const result = await sim.invoke(token, 'Get-CASMailbox', { Identity: identity });
      expect(result.status).toBe(404);
      expect(result.json).toEqual({
        error: {
          code: 'NotFound',
          message: 'Error executing cmdlet',
          details: [
            {
              code: 'Client',
              target: '',
              message: expect.stringMatching(
                new RegExp(
                  `^Ex6F9304\\|Microsoft\\.Exchange\\.Configuration\\.Tasks\\.ManagementObjectNotFoundException\\|The operation couldn't be performed because object '${identity.replace('.', '\\.')}' couldn't be found on '[^']+'\\.$`,
                ),
              ),
            },
          ],
          innererror: expect.objectContaining({ type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException' }),
        },
      });
    }
    const set = await sim.invoke(token, 'Set-CASMailbox', { Identity: 'lidiah@contoso.com', SmtpClientAuthenticationDisabled: false });
    expect(set.status).toBe(404);
  });

  test('an unknown cmdlet, an unknown parameter and a non-boolean value are refused in the error envelope', async () => {
    const unknownCmdlet = await sim.invoke(token, 'Get-Nonsense');
    expect(unknownCmdlet.status).toBe(400);
    expect(unknownCmdlet.json.error.details[0].message).toContain('CommandNotFoundException');

    const unknownParameter = await sim.invoke(token, 'Set-CASMailbox', { Identity: 'bob', SmtpAuthDisabled: false });
    expect(unknownParameter.status).toBe(400);
    expect(unknownParameter.json.error.details[0].message).toBe(
      "|System.Management.Automation.ParameterBindingException|A parameter cannot be found that matches parameter name 'SmtpAuthDisabled'.",
    );

    const wrongType = await sim.invoke(token, 'Set-CASMailbox', { Identity: 'bob', SmtpClientAuthenticationDisabled: 'false' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.details[0].message).toContain(`Cannot process argument transformation on parameter 'SmtpClientAuthenticationDisabled'`);
    expect(await mailboxState('bob@contoso.com')).toEqual({ smtpClientAuthenticationDisabled: true });
  });

  test('Get-TransportConfig and Set-TransportConfig read and write the org setting', async () => {
    expect((await sim.invoke(token, 'Get-TransportConfig')).json.value).toEqual([expect.objectContaining({ SmtpClientAuthenticationDisabled: true })]);
    expect((await sim.invoke(token, 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: false })).status).toBe(200);
    expect((await sim.call('GET', '/_simulator/state')).json.org.smtpClientAuthenticationDisabled).toBe(false);
  });

  test('authentication policies are visible through Get-User, Get-AuthenticationPolicy and Get-OrganizationConfig', async () => {
    expect((await sim.invoke(token, 'Get-User', { Identity: 'jose.nunez@contoso.com' })).json.value[0].AuthenticationPolicy).toBe('Block Basic Auth');
    expect((await sim.invoke(token, 'Get-User', { Identity: 'lidiah@contoso.com' })).json.value[0].RecipientTypeDetails).toBe('User');
    expect((await sim.invoke(token, 'Get-AuthenticationPolicy', { Identity: 'Block Basic Auth' })).json.value[0].AllowBasicAuthSmtp).toBe(false);
    expect((await sim.invoke(token, 'Get-OrganizationConfig')).json.value[0].DefaultAuthenticationPolicy).toBeNull();
  });

  test('Get-CASMailbox -Filter lists the mailboxes with SMTP AUTH explicitly on, paged by Prefer: odata.maxpagesize', async () => {
    const enabled = await sim.invoke(token, 'Get-CASMailbox', { Filter: 'SmtpClientAuthenticationDisabled -eq $false', ResultSize: 'Unlimited' });
    expect(enabled.json.value.map((mailbox: { PrimarySmtpAddress: string }) => mailbox.PrimarySmtpAddress)).toEqual(['adelev@contoso.com', 'wang.wei@contoso.com']);

    const firstPage = await sim.call('POST', `/adminapi/beta/${sim.tenantId}/InvokeCommand?$select=Identity`, {
      token,
      json: { CmdletInput: { CmdletName: 'Get-CASMailbox', Parameters: {} } },
      headers: { Prefer: 'odata.maxpagesize=4' },
    });
    expect(firstPage.json.value).toHaveLength(4);
    expect(Object.keys(firstPage.json.value[0])).toEqual(['Identity']);
    expect(firstPage.json['@odata.nextLink']).toContain('$skiptoken=4');
  });

  test('the token must be an Exchange token for this tenant', async () => {
    const graphToken = await sim.token('https://graph.microsoft.com/.default');
    const wrongAudience = await sim.invoke(graphToken, 'Get-TransportConfig');
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers['www-authenticate']).toContain('error="invalid_token"');
    const noToken = await sim.call('POST', `/adminapi/beta/${sim.tenantId}/InvokeCommand`, { json: { CmdletInput: { CmdletName: 'Get-TransportConfig' } } });
    expect(noToken.status).toBe(401);
    const otherTenant = await sim.call('POST', '/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand', {
      token,
      json: { CmdletInput: { CmdletName: 'Get-TransportConfig' } },
    });
    expect(otherTenant.status).toBe(401);
  });
});
