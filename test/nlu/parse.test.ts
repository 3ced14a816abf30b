import { parseUtterance } from '../../src/nlu/parse';

describe('the five languages our first users wrote in', () => {
  test.each([
    ['enable SMTP for bob', 'en'],
    ['habilita SMTP para bob', 'es'],
    ['为 bob 启用 SMTP', 'zh-CN'],
    ['为bob启用SMTP', 'zh-CN'],
    ['activează SMTP pentru bob', 'ro'],
    ['activeaza smtp pentru bob', 'ro'],
    ['ativar SMTP para o bob', 'pt'],
  ])('"%s" enables SMTP for bob, answered in %s', (text, language) => {
    expect(parseUtterance(text)).toMatchObject({ command: { id: 'smtp-enable' }, args: { user: 'bob' }, language });
  });
});

test('names keep their accents, apostrophes and script even though matching ignores case and accents', () => {
  expect(parseUtterance("Enable smtp for Seán O'Brien.")?.args.user).toBe("Seán O'Brien");
  expect(parseUtterance('ACTIVEAZĂ SMTP PENTRU Ștefan Popescu')?.args.user).toBe('Ștefan Popescu');
  expect(parseUtterance('smtp status 王伟')?.args.user).toBe('王伟');
  expect(parseUtterance('enable SMTP for josé.núñez@contoso.com')?.args.user).toBe('josé.núñez@contoso.com');
});

test('a Teams @mention and trailing punctuation are ignored', () => {
  expect(parseUtterance('<at>SMTP Gate</at> enable SMTP for bob!')).toMatchObject({ command: { id: 'smtp-enable' }, args: { user: 'bob' } });
});

test('the most specific phrase wins ("para o bob" is not a user called "o bob")', () => {
  expect(parseUtterance('ativar SMTP para o bob')?.args.user).toBe('bob');
});

test('status and help are read commands; anything else is not understood', () => {
  expect(parseUtterance('smtp status bob')?.command.id).toBe('smtp-status');
  expect(parseUtterance('estado smtp de bob')).toMatchObject({ command: { id: 'smtp-status' }, language: 'es' });
  expect(parseUtterance('ayuda')).toMatchObject({ command: { id: 'help' }, language: 'es' });
  expect(parseUtterance('please make me a sandwich')).toBeUndefined();
  expect(parseUtterance('')).toBeUndefined();
});
