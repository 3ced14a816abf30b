import { answerLanguage, understand } from '../../src/nlu/parse';

const command = (text: string) => {
  const u = understand(text);
  return u.kind === 'command' ? { id: u.parsed.command.id, args: u.parsed.args, language: u.parsed.language, target: u.parsed.target?.kind } : { kind: u.kind };
};

describe('what the issue saw fail is understood (issue #10)', () => {
  test.each([
    ["what's the smtp status of bob?", 'smtp-status', 'bob'],
    ['is smtp enabled for bob?', 'smtp-status', 'bob'],
    ["please turn on SMTP AUTH for Seán O'Brien", 'smtp-enable', "Seán O'Brien"],
    ['Enable authenticated SMTP for scanner2', 'smtp-enable', 'scanner2'],
    ['enabel smtp for bob', 'smtp-enable', 'bob'],
    ['check bob', 'smtp-status', 'bob'],
    ['¿tiene bob SMTP activado?', 'smtp-status', 'bob'],
    ['bob 的 SMTP 开了吗？', 'smtp-status', 'bob'],
    ['o bob tem SMTP ativo?', 'smtp-status', 'bob'],
    ['are SMTP activat bob?', 'smtp-status', 'bob'],
  ])('"%s" → %s for %s', (text, id, user) => {
    expect(command(text)).toMatchObject({ id, args: { user } });
  });

  test('"me", "para mí", "我", "eu" and "mine" are the person asking', () => {
    for (const text of ['enable smtp for me', 'habilita smtp para mí', '为我启用 SMTP', 'ativar smtp para eu', 'is mine enabled for smtp?']) {
      expect(command(text)).toMatchObject({ target: 'self' });
    }
  });

  test('a status request with no name asks for one; a near miss offers commands that run; other text is no command', () => {
    expect(understand('smtp status')).toMatchObject({ kind: 'missing-target', command: { id: 'smtp-status' } });
    expect(understand('enable smtp')).toMatchObject({ kind: 'missing-target', command: { id: 'smtp-enable' } });
    const near = understand('enable for bob');
    expect(near).toMatchObject({ kind: 'near-miss' });
    expect(near.kind === 'near-miss' && near.suggestions[0]).toMatchObject({ command: { id: 'smtp-enable' }, text: 'enable SMTP for bob' });
    expect(understand('please make me a sandwich')).toMatchObject({ kind: 'unknown' });
  });

  test('the answer is in the language written in; words every language shares leave it to the Teams locale', () => {
    expect(answerLanguage(understand('habilita smtp para bob'), 'en')).toBe('es');
    expect(answerLanguage(understand('smtp status bob'), 'pt')).toBe('pt');
    expect(answerLanguage(understand('smtp status bob'), undefined)).toBe('en');
    expect(answerLanguage(understand('为 bob 启用 SMTP'), 'ro')).toBe('zh-CN');
  });
});
