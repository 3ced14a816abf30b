import type { Language } from '../../src/i18n';
import { intentLanguage, parseDiagnosisIntent } from '../../src/nlu/diagnosis-intent';

/** What a reader notices of a request: diagnose or fix, whose mailbox ('self' or the name as written), the answer's language, the text that came with it. */
interface Read {
  kind: 'diagnose' | 'fix';
  who: string;
  language: Language;
  pasted?: string;
}

function read(text: string): Read | undefined {
  const intent = parseDiagnosisIntent(text);
  if (!intent) return undefined;
  // The asker's own mailbox never comes with someone else's name.
  if (intent.self) expect(intent).not.toHaveProperty('user');
  return { kind: intent.kind, who: intent.self ? 'self' : intent.user!, language: intent.language, ...(intent.pasted !== undefined ? { pasted: intent.pasted } : {}) };
}

const row = (text: string, kind: Read['kind'], who: string, language: Language, pasted?: string): [string, Read] =>
  [text, { kind, who, language, ...(pasted !== undefined ? { pasted } : {}) }];

const mailboxNdr = "Remote Server returned '550 5.7.30 Basic authentication is not supported for Client Submission.'";

describe('what people ask of the diagnosis side, in five languages', () => {
  test.each([
    // English
    row('diagnose bob', 'diagnose', 'bob', 'en'),
    row('diagnose me', 'diagnose', 'self', 'en'),
    row("what's my SMTP status?", 'diagnose', 'self', 'en'),
    row('diagnose my mailbox', 'diagnose', 'self', 'en'),
    row('what is my SMTP auth status', 'diagnose', 'self', 'en'),
    row('my smtp status', 'diagnose', 'self', 'en'),
    row('check my SMTP AUTH', 'diagnose', 'self', 'en'),
    row("why can't I send mail", 'diagnose', 'self', 'en'),
    row('diagnose myself', 'diagnose', 'self', 'en'),
    row('diagnose 5.7.57 for me', 'diagnose', 'self', 'en', '5.7.57'),
    row('fix 5.7.57 for bob', 'fix', 'bob', 'en', '5.7.57'),
    row('fix the 5.7.57 for bob', 'fix', 'bob', 'en', '5.7.57'),
    row('fix me', 'fix', 'self', 'en'),
    row('fix 5.7.57', 'fix', 'self', 'en', '5.7.57'),
    row("fix 5.7.57 for Seán O'Brien", 'fix', "Seán O'Brien", 'en', '5.7.57'),
    row('<at>SMTP Gate</at> diagnose bob', 'diagnose', 'bob', 'en'),
    // "resolve" is Portuguese and English: "for bob" tells which.
    row('resolve 5.7.57 for bob', 'fix', 'bob', 'en', '5.7.57'),
    row('resolve the 5.7.57 for bob', 'fix', 'bob', 'en', '5.7.57'),

    // Spanish
    row('diagnostica a bob', 'diagnose', 'bob', 'es'),
    row('diagnosticar a bob', 'diagnose', 'bob', 'es'),
    row('diagnostica a José Núñez', 'diagnose', 'José Núñez', 'es'),
    row('¿Cuál es mi estado SMTP?', 'diagnose', 'self', 'es'),
    row('diagnostícame', 'diagnose', 'self', 'es'),
    row('diagnostica mi buzón', 'diagnose', 'self', 'es'),
    row('diagnosticar mi cuenta', 'diagnose', 'self', 'es'),
    row('mi estado de SMTP', 'diagnose', 'self', 'es'),
    row('revisa mi SMTP', 'diagnose', 'self', 'es'),
    row('¿Por qué no puedo enviar correo?', 'diagnose', 'self', 'es'),
    row('arregla el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('arreglar el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('soluciona el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('solucionar el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('arregla a bob', 'fix', 'bob', 'es'),
    // Verbs Spanish shares with Portuguese or Romanian, told by "el": Spanish, and the article is not part of the paste.
    row('corrige el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('corrija el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('resolver el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),
    row('repara el 5.7.57 de bob', 'fix', 'bob', 'es', '5.7.57'),

    // Portuguese: "o" (and "do", "para o") is Portuguese, whichever verb it follows.
    row('diagnosticar o bob', 'diagnose', 'bob', 'pt'),
    row('diagnostica o bob', 'diagnose', 'bob', 'pt'),
    row('diagnosticar o José Núñez', 'diagnose', 'José Núñez', 'pt'),
    row('diagnostica o 5.7.57 do bob', 'diagnose', 'bob', 'pt', '5.7.57'),
    row('diagnosticar 5.7.57 para o bob', 'diagnose', 'bob', 'pt', '5.7.57'),
    row('qual é o meu status SMTP?', 'diagnose', 'self', 'pt'),
    row('diagnostica-me', 'diagnose', 'self', 'pt'),
    row('diagnosticar-me', 'diagnose', 'self', 'pt'),
    row('diagnostique-me', 'diagnose', 'self', 'pt'),
    row('diagnosticar a minha caixa', 'diagnose', 'self', 'pt'),
    row('o meu status do SMTP', 'diagnose', 'self', 'pt'),
    row('verificar o meu SMTP', 'diagnose', 'self', 'pt'),
    row('porque não consigo enviar e-mail', 'diagnose', 'self', 'pt'),
    row('corrige o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('corrija o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('corrigir 5.7.57 para o bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('corrigir o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('resolve o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('resolver o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('resolver o 5.7.57 de bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('soluciona o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('solucionar o bob', 'fix', 'bob', 'pt'),
    row('repara o 5.7.57 do bob', 'fix', 'bob', 'pt', '5.7.57'),
    row('corrige 5.7.57 da maria', 'fix', 'maria', 'pt', '5.7.57'),

    // Chinese
    row('诊断 bob', 'diagnose', 'bob', 'zh-CN'),
    row('诊断 王伟', 'diagnose', '王伟', 'zh-CN'),
    row('我的 SMTP 状态', 'diagnose', 'self', 'zh-CN'),
    row('诊断我', 'diagnose', 'self', 'zh-CN'),
    row('诊断我的邮箱', 'diagnose', 'self', 'zh-CN'),
    row('我的 SMTP 状态怎么样', 'diagnose', 'self', 'zh-CN'),
    row('检查我的 SMTP', 'diagnose', 'self', 'zh-CN'),
    row('为什么我发不了邮件', 'diagnose', 'self', 'zh-CN'),
    row('修复 bob 的 5.7.57', 'fix', 'bob', 'zh-CN', '5.7.57'),
    row('修复 王伟 的 5.7.57', 'fix', '王伟', 'zh-CN', '5.7.57'),

    // Romanian: "pe", "pentru", "lui" and its own letters ("repară") are Romanian.
    row('diagnostichează pe bob', 'diagnose', 'bob', 'ro'),
    row('diagnostichează bob', 'diagnose', 'bob', 'ro'),
    row('diagnostica pe bob', 'diagnose', 'bob', 'ro'),
    row('diagnostica 5.7.57 pentru bob', 'diagnose', 'bob', 'ro', '5.7.57'),
    row('diagnostichează 5.7.57 al lui bob', 'diagnose', 'bob', 'ro', '5.7.57'),
    row('care este starea mea SMTP?', 'diagnose', 'self', 'ro'),
    row('diagnostichează-mă', 'diagnose', 'self', 'ro'),
    row('diagnostichează-mi contul', 'diagnose', 'self', 'ro'),
    row('starea mea SMTP', 'diagnose', 'self', 'ro'),
    row('verifică smtp-ul meu', 'diagnose', 'self', 'ro'),
    row('de ce nu pot trimite e-mail', 'diagnose', 'self', 'ro'),
    row('repară 5.7.57 pentru bob', 'fix', 'bob', 'ro', '5.7.57'),
    row('repara 5.7.57 pentru bob', 'fix', 'bob', 'ro', '5.7.57'),
    row('repară 5.7.57 de bob', 'fix', 'bob', 'ro', '5.7.57'),
    row('rezolvă 5.7.57 pentru bob', 'fix', 'bob', 'ro', '5.7.57'),
    row('reparați 5.7.57 pentru bob', 'fix', 'bob', 'ro', '5.7.57'),
    row('repară bob', 'fix', 'bob', 'ro'),
  ])('%j', (text, expected) => {
    expect(read(text)).toEqual(expected);
  });

  describe('a name followed by a full stop, an exclamation or question mark, or quotes is still the name', () => {
    test.each([
      row('Fix 5.7.57 for bob.', 'fix', 'bob', 'en', '5.7.57'),
      row('fix 5.7.57 for bob!', 'fix', 'bob', 'en', '5.7.57'),
      row('fix 5.7.57 for bob?!', 'fix', 'bob', 'en', '5.7.57'),
      row('fix 5.7.57 for bob...', 'fix', 'bob', 'en', '5.7.57'),
      row('Fix 5.7.57 For Bob Smith.', 'fix', 'Bob Smith', 'en', '5.7.57'),
      row('fix 5.7.57 for "bob".', 'fix', 'bob', 'en', '5.7.57'),
      row('fix 5.7.57 for “Bob Smith”.', 'fix', 'Bob Smith', 'en', '5.7.57'),
      row("fix 5.7.57 for 'bob'!", 'fix', 'bob', 'en', '5.7.57'),
      // Dots and apostrophes inside a name stay.
      row('fix 5.7.57 for bob.smith@contoso.com.', 'fix', 'bob.smith@contoso.com', 'en', '5.7.57'),
      row("fix 5.7.57 for Seán O'Brien.", 'fix', "Seán O'Brien", 'en', '5.7.57'),
      row('diagnose 5.7.57 for me.', 'diagnose', 'self', 'en', '5.7.57'),
      row('diagnose bob.', 'diagnose', 'bob', 'en'),
      row(`diagnose ${mailboxNdr} for bob.`, 'diagnose', 'bob', 'en', mailboxNdr),
      row('arregla el 5.7.57 de bob.', 'fix', 'bob', 'es', '5.7.57'),
      row('arregla el 5.7.57 de bob!', 'fix', 'bob', 'es', '5.7.57'),
      row('diagnostica a José Núñez.', 'diagnose', 'José Núñez', 'es'),
      row('arregla el 5.7.57 de «bob».', 'fix', 'bob', 'es', '5.7.57'),
      row('diagnosticar o bob.', 'diagnose', 'bob', 'pt'),
      row('corrige o 5.7.57 do bob!', 'fix', 'bob', 'pt', '5.7.57'),
      row('corrigir 5.7.57 para o bob?', 'fix', 'bob', 'pt', '5.7.57'),
      row('诊断 bob。', 'diagnose', 'bob', 'zh-CN'),
      row('诊断 “bob”！', 'diagnose', 'bob', 'zh-CN'),
      row('修复 王伟？', 'fix', '王伟', 'zh-CN'),
      row('Fix 5.7.57 for bob。', 'fix', 'bob', 'en', '5.7.57'),
      row('repară 5.7.57 pentru bob.', 'fix', 'bob', 'ro', '5.7.57'),
      row('diagnostichează pe bob!', 'diagnose', 'bob', 'ro'),
      row('repară 5.7.57 pentru „bob”.', 'fix', 'bob', 'ro', '5.7.57'),
    ])('%j', (text, expected) => {
      expect(read(text)).toEqual(expected);
    });
  });

  describe("a pasted bounce's own ending is not a user, with or without its full stop, in the languages Exchange writes it in", () => {
    test.each([
      ['diagnose 535 5.7.139 Authentication unsuccessful. Visit https://aka.ms/smtp_auth_disabled for more information.', 'en'],
      ['diagnose 535 5.7.139 Authentication unsuccessful. Visit https://aka.ms/smtp_auth_disabled for more information', 'en'],
      ['fix 550 5.7.30 Basic authentication is not supported for Client Submission.', 'en'],
      ['diagnose 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.', 'en'],
      ['diagnose 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.', 'en'],
      ['diagnostica 535 5.7.139 Autenticación incorrecta, SmtpClientAuthentication está deshabilitado para el buzón. Visite https://aka.ms/smtp_auth_disabled para obtener más información.', 'es'],
      ['corrige o 535 5.7.139 Falha na autenticação, SmtpClientAuthentication está desabilitado para a caixa de correio. Visite https://aka.ms/smtp_auth_disabled para obter mais informações.', 'pt'],
      ['诊断 535 5.7.139 身份验证失败，邮箱的 SmtpClientAuthentication 已禁用。有关详细信息，请访问 https://aka.ms/smtp_auth_disabled。', 'zh-CN'],
      ['diagnostichează 535 5.7.139 Autentificare nereușită, SmtpClientAuthentication este dezactivat pentru cutia poștală. Vizitați https://aka.ms/smtp_auth_disabled pentru mai multe informații.', 'ro'],
    ] as [string, Language][])('%j is about the asker, with the bounce whole (%s)', (text, language) => {
      const intent = parseDiagnosisIntent(text)!;
      expect(intent).toMatchObject({ self: true, language });
      expect(intent).not.toHaveProperty('user');
      expect(text.endsWith(intent.pasted!)).toBe(true);
      expect(intent.pasted).toMatch(/5\.7\.(139|30)/);
    });

    test('a bounce pasted on its own lines, then "for bob." on the last: bob, the bounce whole', () => {
      expect(read(`diagnose\n${mailboxNdr}\nfor bob.`)).toEqual({ kind: 'diagnose', who: 'bob', language: 'en', pasted: mailboxNdr });
    });
  });

  describe('when the words fit several languages, the Teams locale picks among them', () => {
    test.each([
      ['diagnosticar a maria', ['es', 'pt']],
      ['diagnostica bob', ['es', 'pt', 'ro']],
      ['soluciona a bob', ['es', 'pt']],
      ['corrige 5.7.57 de bob', ['pt', 'es']],
      ['repara 5.7.57 para bob', ['es', 'pt']],
    ] as [string, Language[]][])('%j could be %j', (text, languages) => {
      const intent = parseDiagnosisIntent(text)!;
      expect(intent.languages).toEqual(languages);
      expect(intent.language).toBe(languages[0]);
      for (const locale of languages) expect(intentLanguage(intent, locale)).toBe(locale);
      // A locale the words rule out does not decide: English Teams, Portuguese or Spanish words.
      expect(intentLanguage(intent, 'en')).toBe(languages[0]);
      expect(intentLanguage(intent, undefined)).toBe(languages[0]);
    });

    test('words that tell one language win over the Teams locale', () => {
      expect(intentLanguage(parseDiagnosisIntent('diagnosticar o bob')!, 'es')).toBe('pt');
      expect(intentLanguage(parseDiagnosisIntent('resolver el 5.7.57 de bob')!, 'pt')).toBe('es');
      expect(intentLanguage(parseDiagnosisIntent('diagnostica pe bob')!, 'es')).toBe('ro');
      expect(intentLanguage(parseDiagnosisIntent('Fix 5.7.57 for bob.')!, 'pt')).toBe('en');
    });
  });

  test('other commands are not diagnosis requests', () => {
    for (const text of ['enable SMTP for bob', 'smtp status bob', 'help', 'fixed it, thanks', 'fix', 'diagnosticar', 'arreglar: bob']) expect(parseDiagnosisIntent(text)).toBeUndefined();
  });
});
