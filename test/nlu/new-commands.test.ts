import { z } from 'zod';
import { commands } from '../../src/commands/registry';
import type { ReadCommand } from '../../src/commands/types';
import { useCommands } from '../../src/nlu/match';
import { parseUtterance } from '../../src/nlu/parse';

/**
 * A command gets the tolerant understanding from its phrases alone (issue #10): these are shaped
 * like the organization-wide and group commands, declared with one or two plain phrases per
 * language, and understood in every way the built-in ones are.
 */

const read = (id: string, phrases: ReadCommand['phrases'], params: z.ZodType<Record<string, string>> = z.object({})): ReadCommand => ({
  id, kind: 'read', phrases, params, audience: 'it-staff', risk: 'read', run: async () => { throw new Error('not run'); },
  example: { en: id, es: id, pt: id, 'zh-CN': id, ro: id },
});
const orgEnable = read('org-smtp-enable', {
  en: ['enable smtp for the organization'], es: ['habilita smtp para toda la organizacion'], pt: ['ativar smtp para toda a organizacao'],
  'zh-CN': ['为整个组织启用 smtp'], ro: ['activeaza smtp pentru toata organizatia'],
});
const groupEnable = read('smtp-enable-group', {
  en: ['enable smtp for group {group}'], es: ['habilita smtp para el grupo {group}'], pt: ['ativar smtp para o grupo {group}'],
  'zh-CN': ['为组 {group} 启用 smtp'], ro: ['activeaza smtp pentru grupul {group}'],
}, z.object({ group: z.string() }));
const requests = read('requests', { en: ['pending requests', 'requests'], es: ['solicitudes pendientes'], pt: ['solicitacoes pendentes'], 'zh-CN': ['待审批的申请'], ro: ['cereri in asteptare'] });

const fakes = [orgEnable, groupEnable, requests];
const withFakes = () => useCommands([...commands.filter((c) => !fakes.some((f) => f.id === c.id)), ...fakes]);
beforeAll(withFakes);
afterAll(() => useCommands());

test.each([
  ['please turn on SMTP AUTH for everyone', 'org-smtp-enable', {}],
  ['enable authenticated smtp for the whole organization', 'org-smtp-enable', {}],
  ['enabel smtp for all users', 'org-smtp-enable', {}],
  ['por favor activa la autenticación smtp para toda la organización', 'org-smtp-enable', {}],
  ['habilitar smtp para todos', 'org-smtp-enable', {}],
  ['ligar o smtp para toda a organização', 'org-smtp-enable', {}],
  ['请为整个组织开启 SMTP 身份验证', 'org-smtp-enable', {}],
  ['activați smtp pentru toată organizația, vă rog', 'org-smtp-enable', {}],
  ['enable smtp for group Scanners', 'smtp-enable-group', { group: 'Scanners' }],
  ['turn on smtp auth for the Floor 2 Devices group', 'smtp-enable-group', { group: 'Floor 2 Devices' }],
  ['habilita smtp para el grupo Escáneres', 'smtp-enable-group', { group: 'Escáneres' }],
  ['ativar autenticacao smtp para o grupo Impressoras', 'smtp-enable-group', { group: 'Impressoras' }],
  ['为组 打印机 开启 SMTP', 'smtp-enable-group', { group: '打印机' }],
  ['activează smtp pentru grupul Scanere', 'smtp-enable-group', { group: 'Scanere' }],
  ['show me the pending requests', 'requests', {}],
  ['requsets', 'requests', {}],
  ['¿hay solicitudes pendientes?', 'requests', {}],
  ['enable smtp for bob', 'smtp-enable', { user: 'bob' }],
])('"%s" → %s %j', (text, command, args) => {
  const parsed = parseUtterance(text);
  expect(parsed && { command: parsed.command.id, args: parsed.args }).toEqual({ command, args });
});

test('without the organization-wide command, "for everyone" is not taken for a user called "everyone"', () => {
  useCommands(commands.filter((c) => ['smtp-status', 'smtp-enable', 'smtp-disable', 'smtp-reset', 'help'].includes(c.id)));
  expect(parseUtterance('enable smtp for everyone')).toBeUndefined();
  expect(parseUtterance('enable smtp for group Scanners')).toBeUndefined();
  withFakes();
});
