import { loadConfig } from '../../src/config';
import { AppError } from '../../src/errors';
import { translator } from '../../src/i18n';
import type { TenantFixture } from '../../src/simulator/fixture';
import { authenticationPolicy, newSmtpPolicyCommand } from '../../src/steps/authentication-policy';
import { perUserMfa } from '../../src/steps/per-user-mfa';
import { readPlan } from '../../src/steps/plan';
import { securityDefaults } from '../../src/steps/security-defaults';
import type { StepTarget } from '../../src/steps/types';
import { connectTenant, type Tenant } from '../../src/tenant';
import { SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL } from '../../src/tenant/directory';
import { botSettings, demoFixture, SimulatorHandle } from '../support/harness';

/** What the policy step kinds decide from a read: refusals Microsoft would give, the policy to assign, what holds already. */

const userTarget = (upn: string): StepTarget => {
  const user = demoFixture.users.find((u) => u.userPrincipalName === upn)!;
  return { type: 'user', id: user.id, identity: user.userPrincipalName, displayName: user.displayName };
};
const organization: StepTarget = { type: 'organization', id: demoFixture.tenant.id, identity: demoFixture.tenant.id, displayName: demoFixture.tenant.id };

let simulator: SimulatorHandle;
let tenant: Tenant;

beforeAll(async () => {
  simulator = await SimulatorHandle.start();
  tenant = connectTenant(loadConfig(botSettings(simulator, { LOG_LEVEL: 'silent' })));
}, 60_000);
afterAll(async () => {
  await tenant?.close();
  await simulator?.close();
});

async function reset(change?: (fixture: TenantFixture) => void) {
  const fixture = structuredClone(demoFixture);
  change?.(fixture);
  await simulator.control('POST', '/_simulator/reset', fixture);
}
const writes = async () => (await simulator.control<{ method: string; cmdlet: string | null }[]>('GET', '/_simulator/calls')).filter((c) => c.method === 'PATCH' || c.cmdlet?.startsWith('Set-'));

test("turning security defaults on while Conditional Access policies exist is refused when the plan is read, in Entra's words", async () => {
  await reset();
  const error = (await readPlan(tenant, [{ kind: securityDefaults.id, target: organization, desired: true }]).catch((e: unknown) => e)) as AppError;
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: 'SECURITY_DEFAULTS_BLOCKED', params: { total: 2, message: SECURITY_DEFAULTS_CONDITIONAL_ACCESS_REFUSAL } });
  // Turning them off is never refused (here they are off already: nothing to do).
  expect((await readPlan(tenant, [{ kind: securityDefaults.id, target: organization, desired: false }])).steps).toEqual([]);
  // Already on: nothing to do, and nothing to refuse.
  await reset((fixture) => {
    fixture.org.securityDefaultsEnabled = true;
    fixture.conditionalAccessPolicies = [];
  });
  expect((await readPlan(tenant, [{ kind: securityDefaults.id, target: organization, desired: true }])).steps).toEqual([]);
  expect(await writes()).toEqual([]);
});

test('allowing Basic SMTP picks the existing policy that allows it with the fewest other protocols, and stores its name', async () => {
  await reset((fixture) => {
    fixture.authenticationPolicies!.unshift({ name: 'Legacy printers', allowBasicAuthSmtp: true, allowBasicAuthPop: true });
  });
  const { steps } = await readPlan(tenant, [{ kind: authenticationPolicy.id, target: userTarget('jose.nunez@contoso.com'), desired: { allowBasicSmtp: true } }]);
  expect(steps).toEqual([expect.objectContaining({ desired: 'Allow Basic SMTP', before: expect.objectContaining({ policy: 'Block Basic Auth' }) })]);
  const operation = authenticationPolicy.operation(steps[0]!.target, steps[0]!.desired as string);
  expect(operation).toEqual({ operation: 'Set-User', cmdlet: 'Set-User', identity: 'jose.nunez@contoso.com', parameters: { AuthenticationPolicy: 'Allow Basic SMTP' } });
});

test('with no policy allowing Basic SMTP the plan is refused with the New-AuthenticationPolicy to run, under a name not taken', async () => {
  await reset((fixture) => {
    fixture.authenticationPolicies = [{ name: 'Block Basic Auth', allowBasicAuthSmtp: false }, { name: 'Allow Basic SMTP', allowBasicAuthSmtp: false }];
  });
  const error = (await readPlan(tenant, [{ kind: authenticationPolicy.id, target: userTarget('jose.nunez@contoso.com'), desired: { allowBasicSmtp: true } }]).catch((e: unknown) => e)) as AppError;
  expect(error).toMatchObject({ code: 'AUTH_POLICY_NONE_ALLOWS_SMTP', params: { command: 'New-AuthenticationPolicy -Name "Allow Basic SMTP only" -AllowBasicAuthSmtp' } });
  expect(newSmtpPolicyCommand([])).toBe('New-AuthenticationPolicy -Name "Allow Basic SMTP" -AllowBasicAuthSmtp');
  expect(await writes()).toEqual([]);
});

test('the organization default decides for a user without a policy of their own', async () => {
  await reset((fixture) => {
    fixture.org.defaultAuthenticationPolicy = 'Block Basic Auth';
  });
  const bob = userTarget('bob@contoso.com');
  const { steps } = await readPlan(tenant, [{ kind: authenticationPolicy.id, target: bob, desired: { allowBasicSmtp: true } }]);
  expect(steps.map((s) => s.desired)).toEqual(['Allow Basic SMTP']);
  const notes = authenticationPolicy.notes!(translator('en'), { ...steps[0]!, desired: null } as never);
  expect(notes.join(' ')).toContain('the organization default then applies: “Block Basic Auth”, which blocks Basic SMTP');
});

test('per-user MFA: enforced holds an enable; an enable for a user with a registered method reads back enforced and still verifies', async () => {
  await reset((fixture) => {
    fixture.users.find((u) => u.userPrincipalName === 'bob@contoso.com')!.isMfaRegistered = true;
  });
  expect((await readPlan(tenant, [{ kind: perUserMfa.id, target: userTarget('alexw@contoso.com'), desired: 'enabled' }])).steps).toEqual([]);
  const bob = userTarget('bob@contoso.com');
  await perUserMfa.write(tenant, bob, 'enabled');
  const after = await perUserMfa.read(tenant, bob);
  expect(after).toEqual({ perUserMfaState: 'enforced' });
  expect(perUserMfa.holds(after!, 'enabled')).toBe(true);
  expect(perUserMfa.holds(after!, 'disabled')).toBe(false);
  expect(await perUserMfa.read(tenant, { ...bob, id: '00000000-0000-4000-8000-00000000dead' })).toBeUndefined();
});

test('risks: security defaults off is critical, on is medium; per-user MFA and authentication policies are high', () => {
  expect(securityDefaults.risk(false, undefined)).toBe('critical');
  expect(securityDefaults.risk(true, undefined)).toBe('medium');
  expect(perUserMfa.risk('disabled', undefined)).toBe('high');
  expect(authenticationPolicy.risk(null, undefined)).toBe('high');
});
