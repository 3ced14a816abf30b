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

describe('an SMTP AUTH exception: justification, duration and "permanent" after the user (issue #5)', () => {
  const day = 24 * 3_600_000;
  test.each([
    ['enable SMTP for bob for the floor 2 scanner', 'en', 'the floor 2 scanner'],
    ['habilita SMTP para bob para el escáner de la planta 2', 'es', 'el escáner de la planta 2'],
    ['ativar SMTP para o bob para o scanner do 2º andar', 'pt', 'o scanner do 2º andar'],
    ['为 bob 启用 SMTP 为 2 楼扫描仪', 'zh-CN', '2 楼扫描仪'],
    ['为 bob 启用 SMTP，用于 2 楼扫描仪', 'zh-CN', '2 楼扫描仪'],
    ['activează SMTP pentru bob pentru scanerul de la etajul 2', 'ro', 'scanerul de la etajul 2'],
  ])('"%s" (%s): the user is bob and the justification is kept as written', (text, language, justification) => {
    const parsed = parseUtterance(text);
    expect(parsed).toMatchObject({ command: { id: 'smtp-enable' }, args: { user: 'bob' }, language, justification });
    expect(parsed?.durationMs).toBeUndefined();
    expect(parsed?.permanent).toBeUndefined();
  });

  test.each([
    ['enable SMTP for bob for 30 days for the floor 2 scanner', 'the floor 2 scanner'],
    ['enable SMTP for bob for the floor 2 scanner for 30 days', 'the floor 2 scanner'],
    ['habilita SMTP para bob durante 30 días para el escáner de la planta 2', 'el escáner de la planta 2'],
    ['ativar SMTP para o bob por 30 dias para o scanner do 2º andar', 'o scanner do 2º andar'],
    ['为 bob 启用 SMTP 30 天，为 2 楼扫描仪', '2 楼扫描仪'],
    ['activează SMTP pentru bob pentru 30 de zile pentru scanerul de la etajul 2', 'scanerul de la etajul 2'],
  ])('"%s": a duration is not a justification, in either order', (text, justification) => {
    expect(parseUtterance(text)).toMatchObject({ args: { user: 'bob' }, durationMs: 30 * day, justification });
  });

  test.each([
    ['enable SMTP for bob permanently for the floor 2 scanner', 'the floor 2 scanner'],
    ['enable SMTP for bob for the floor 2 scanner permanently', 'the floor 2 scanner'],
    ['habilita SMTP para bob para siempre para el escáner de la planta 2', 'el escáner de la planta 2'],
    ['ativar SMTP para o bob permanentemente para o scanner do 2º andar', 'o scanner do 2º andar'],
    ['为 bob 永久启用 SMTP，用于 2 楼扫描仪', '2 楼扫描仪'],
    ['activează SMTP pentru bob permanent pentru scanerul de la etajul 2', 'scanerul de la etajul 2'],
  ])('"%s": permanent means no expiry', (text, justification) => {
    const parsed = parseUtterance(text);
    expect(parsed).toMatchObject({ args: { user: 'bob' }, permanent: true, justification });
    expect(parsed?.durationMs).toBeUndefined();
  });

  test('without a reason there is no justification, and a duration alone still time-boxes', () => {
    expect(parseUtterance('enable SMTP for bob')?.justification).toBeUndefined();
    expect(parseUtterance('enable SMTP for bob for 7 days')).toMatchObject({ args: { user: 'bob' }, durationMs: 7 * day });
    expect(parseUtterance('为 bob 启用 SMTP 7 天')).toMatchObject({ args: { user: 'bob' }, durationMs: 7 * day });
    expect(parseUtterance("enable SMTP for Seán O'Brien for the copier")).toMatchObject({ args: { user: "Seán O'Brien" }, justification: 'the copier' });
  });

  test('a duration outside 1 hour – 366 days is refused, never taken as the reason', () => {
    for (const text of ['enable SMTP for bob for 400 days', 'enable SMTP for bob for 0 days', 'habilita SMTP para bob durante 500 días', 'ativar SMTP para o bob por 0 horas']) {
      const parsed = parseUtterance(text);
      expect(parsed).toMatchObject({ args: { user: 'bob' }, durationOutOfRange: true });
      expect(parsed?.justification).toBeUndefined();
      expect(parsed?.durationMs).toBeUndefined();
    }
  });

  test('"exceptions" is understood in every language', () => {
    expect(parseUtterance('exceptions')).toMatchObject({ command: { id: 'exceptions' }, language: 'en' });
    expect(parseUtterance('excepciones')).toMatchObject({ command: { id: 'exceptions' }, language: 'es' });
    expect(parseUtterance('exceções')).toMatchObject({ command: { id: 'exceptions' }, language: 'pt' });
    expect(parseUtterance('SMTP 例外')).toMatchObject({ command: { id: 'exceptions' }, language: 'zh-CN' });
    expect(parseUtterance('excepții')).toMatchObject({ command: { id: 'exceptions' }, language: 'ro' });
  });
});
