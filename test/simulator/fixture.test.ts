import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FixtureError, loadFixture, parseFixture } from '../../src/simulator/fixture';
import { DEMO_FIXTURE_PATH } from './simulatorClient';

function demoJson(): any {
  return JSON.parse(readFileSync(DEMO_FIXTURE_PATH, 'utf8'));
}

function problemsOf(json: unknown): string[] {
  try {
    parseFixture(json);
  } catch (error) {
    expect(error).toBeInstanceOf(FixtureError);
    return [...(error as FixtureError).problems];
  }
  throw new Error('expected the fixture to be rejected');
}

describe('tenant fixture', () => {
  test('the demo tenant loads and covers every case the bot must handle', () => {
    const fixture = loadFixture(DEMO_FIXTURE_PATH);
    const users = fixture.users;
    const mailboxStates = new Set(users.map((user) => (user.mailbox === null ? 'none' : String(user.mailbox.smtpClientAuthenticationDisabled))));
    expect(mailboxStates).toEqual(new Set(['none', 'null', 'true', 'false']));
    expect(new Set(users.map((user) => user.perUserMfaState))).toEqual(new Set(['disabled', 'enabled', 'enforced']));
    expect(new Set(users.map((user) => user.preferredLanguage))).toEqual(new Set(['en-US', 'es-ES', 'pt-BR', 'zh-CN', 'ro-RO', null]));
    expect(fixture.org).toMatchObject({ smtpClientAuthenticationDisabled: true, securityDefaultsEnabled: false });
    expect(fixture.tenant.entraP1).toBe(true);
    expect(users.find((user) => user.userPrincipalName === 'bob@contoso.com')?.displayName).toBe('Bob Smith');
    expect(users.filter((user) => user.givenName === 'Bob')).toHaveLength(2);
    for (const name of ['José Núñez', 'Ștefan Popescu', '王伟', "Seán O'Brien", 'Floor 2 Scanner', 'Alex Wilber', 'Megan Bowen', 'Adele Vance']) {
      expect(users.map((user) => user.displayName)).toContain(name);
    }
    const blocking = fixture.conditionalAccessPolicies?.filter(
      (policy) => policy.state === 'enabled' && policy.conditions.clientAppTypes.includes('other') && policy.grantControls?.builtInControls.includes('block'),
    );
    expect(blocking).toHaveLength(1);
    const exceptions = fixture.groups?.find((group) => group.displayName === 'SMTP AUTH exceptions');
    expect(blocking?.[0]?.conditions.users.excludeGroups).toEqual([exceptions?.id]);
    const byName = (name: string) => users.find((user) => user.displayName === name)?.id;
    const itStaff = fixture.groups?.find((group) => group.id === fixture.localMode?.itStaffGroupId);
    const approvers = fixture.groups?.find((group) => group.id === fixture.localMode?.approverGroupId);
    expect(itStaff?.displayName).toBe('IT Staff');
    expect(itStaff?.members).toContain(byName('Alex Wilber'));
    expect(approvers?.members).toEqual(expect.arrayContaining([byName('Megan Bowen'), byName('Adele Vance')]));
    expect(users.find((user) => user.authenticationPolicy === 'Block Basic Auth')).toBeDefined();
    const failedSmtpSignIns = users.flatMap((user) =>
      (user.signIns ?? []).filter((signIn) => signIn.clientAppUsed === 'Authenticated SMTP' && signIn.status.errorCode !== 0).map(() => user),
    );
    expect(failedSmtpSignIns.length).toBeGreaterThanOrEqual(3);
    expect(failedSmtpSignIns.every((user) => user.mailbox?.smtpClientAuthenticationDisabled === true)).toBe(true);
  });

  test('a mailbox setting that is not true, false or null is rejected with its exact path', () => {
    const json = demoJson();
    json.users[3].mailbox.smtpClientAuthenticationDisabled = 'yes';
    expect(problemsOf(json)).toEqual(['users[3].mailbox.smtpClientAuthenticationDisabled: expected true, false or null']);
    expect(() => parseFixture(json)).toThrow('users[3].mailbox.smtpClientAuthenticationDisabled: expected true, false or null');
  });

  test('a group member that is not a user is rejected with its exact path', () => {
    const json = demoJson();
    json.groups[1].members.push('00000000-0000-0000-0000-0000000000ff');
    const index = json.groups[1].members.length - 1;
    expect(problemsOf(json)).toEqual([`groups[1].members[${index}]: no user with id '00000000-0000-0000-0000-0000000000ff'`]);
  });

  test('every problem is listed, not only the first', () => {
    const json = demoJson();
    json.users[0].id = 'not-a-guid';
    json.users[2].perUserMfaState = 'on';
    delete json.users[4].accountEnabled;
    json.tenant.entraP1 = 'yes';
    expect(problemsOf(json)).toEqual(
      expect.arrayContaining([
        'users[0].id: expected a GUID',
        "users[2].perUserMfaState: expected 'disabled', 'enabled' or 'enforced'",
        'users[4].accountEnabled: expected true or false',
        'tenant.entraP1: expected true or false',
      ]),
    );
  });

  test('cross-references are checked: duplicate ids and UPNs, local-mode groups, authentication policies, domains', () => {
    const json = demoJson();
    json.users[5].id = json.users[1].id;
    json.users[6].userPrincipalName = json.users[2].userPrincipalName.toUpperCase();
    json.localMode.approverGroupId = '00000000-0000-0000-0000-0000000000aa';
    json.users[7].authenticationPolicy = 'No Such Policy';
    json.users[8].mail = "sean.o'brien@fabrikam.com";
    expect(problemsOf(json)).toEqual(
      expect.arrayContaining([
        `users[5].id: duplicate user id '${json.users[1].id}' (also users[1])`,
        `users[6].userPrincipalName: duplicate '${json.users[6].userPrincipalName}' (also users[2])`,
        "localMode.approverGroupId: no group with id '00000000-0000-0000-0000-0000000000aa'",
        "users[7].authenticationPolicy: no authenticationPolicies entry named 'No Such Policy'",
        "users[8].mail: domain 'fabrikam.com' is not one of tenant.domains",
      ]),
    );
  });

  test('optional sections may be left out', () => {
    const json = demoJson();
    for (const key of ['authenticationPolicies', 'groups', 'conditionalAccessPolicies', 'localMode']) delete json[key];
    delete json.org.defaultAuthenticationPolicy;
    for (const user of json.users) {
      delete user.authenticationPolicy;
      delete user.signIns;
    }
    expect(parseFixture(json).users).toHaveLength(json.users.length);
  });

  test('a file that is not JSON is reported with its path', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-gate-fixture-'));
    try {
      const file = path.join(dir, 'broken.json');
      writeFileSync(file, '{ "tenant": ');
      expect(() => loadFixture(file)).toThrow(FixtureError);
      expect(() => loadFixture(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*invalid JSON`));
      expect(() => loadFixture(path.join(dir, 'missing.json'))).toThrow(/cannot read the file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
