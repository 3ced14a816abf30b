import { parseDiagnosisIntent } from '../../src/nlu/diagnosis-intent';

describe('what people ask of the diagnosis side, in five languages', () => {
  test.each([
    ['fix 5.7.57 for bob', 'en'],
    ['arregla el 5.7.57 de bob', 'es'],
    ['修复 bob 的 5.7.57', 'zh-CN'],
    ['repară 5.7.57 pentru bob', 'ro'],
    ['corrige o 5.7.57 do bob', 'pt'],
  ])('%j is a fix for bob with the code as pasted text (%s)', (text, language) => {
    expect(parseDiagnosisIntent(text)).toEqual({ kind: 'fix', self: false, user: 'bob', pasted: '5.7.57', language });
  });

  test.each([
    ['diagnose me', 'en'], ["what's my SMTP status?", 'en'], ['¿Cuál es mi estado SMTP?', 'es'], ['diagnostícame', 'es'],
    ['qual é o meu status SMTP?', 'pt'], ['diagnostica-me', 'pt'], ['我的 SMTP 状态', 'zh-CN'], ['诊断我', 'zh-CN'],
    ['care este starea mea SMTP?', 'ro'], ['diagnostichează-mă', 'ro'],
  ])('%j asks about the asker\'s own mailbox (%s)', (text, language) => {
    expect(parseDiagnosisIntent(text)).toEqual({ kind: 'diagnose', self: true, language });
  });

  test.each([
    ['soluciona el 5.7.57 de bob', 'es'], ['solucionar el 5.7.57 de bob', 'es'], ['arreglar el 5.7.57 de bob', 'es'],
    ['resolver o 5.7.57 do bob', 'pt'], ['corrija o 5.7.57 do bob', 'pt'], ['corrigir 5.7.57 para o bob', 'pt'], ['resolve o 5.7.57 do bob', 'pt'],
    ['rezolvă 5.7.57 pentru bob', 'ro'], ['reparați 5.7.57 pentru bob', 'ro'],
    ['fix the 5.7.57 for bob', 'en'],
  ])('%j, another way to say fix, is a fix for bob too (%s)', (text, language) => {
    expect(parseDiagnosisIntent(text)).toEqual({ kind: 'fix', self: false, user: 'bob', pasted: '5.7.57', language });
  });

  test.each([
    ['diagnose bob', 'en'], ['diagnostica a bob', 'es'], ['diagnosticar a bob', 'es'], ['diagnostichează pe bob', 'ro'], ['diagnostichează bob', 'ro'], ['诊断 bob', 'zh-CN'],
  ])('%j asks about bob\'s mailbox (%s)', (text, language) => {
    expect(parseDiagnosisIntent(text)).toEqual({ kind: 'diagnose', self: false, user: 'bob', language });
  });

  test.each([
    ['diagnose my mailbox', 'en'], ['what is my SMTP auth status', 'en'], ['my smtp status', 'en'], ['check my SMTP AUTH', 'en'], ["why can't I send mail", 'en'], ['diagnose myself', 'en'],
    ['diagnostica mi buzón', 'es'], ['diagnosticar mi cuenta', 'es'], ['mi estado de SMTP', 'es'], ['revisa mi SMTP', 'es'], ['¿Por qué no puedo enviar correo?', 'es'],
    ['diagnosticar-me', 'pt'], ['diagnostique-me', 'pt'], ['diagnosticar a minha caixa', 'pt'], ['o meu status do SMTP', 'pt'], ['verificar o meu SMTP', 'pt'], ['porque não consigo enviar e-mail', 'pt'],
    ['诊断我的邮箱', 'zh-CN'], ['我的 SMTP 状态怎么样', 'zh-CN'], ['检查我的 SMTP', 'zh-CN'], ['为什么我发不了邮件', 'zh-CN'],
    ['diagnostichează-mi contul', 'ro'], ['starea mea SMTP', 'ro'], ['verifică smtp-ul meu', 'ro'], ['de ce nu pot trimite e-mail', 'ro'],
  ])('%j, another way to ask about one\'s own mailbox, is one too (%s)', (text, language) => {
    expect(parseDiagnosisIntent(text)).toMatchObject({ kind: 'diagnose', self: true, language });
    expect(parseDiagnosisIntent(text)).not.toHaveProperty('user');
  });

  test('a fix or a diagnosis with no one named, or "me", is for the asker; a code alone comes as pasted text', () => {
    expect(parseDiagnosisIntent('fix me')).toEqual({ kind: 'fix', self: true, language: 'en' });
    expect(parseDiagnosisIntent('fix 5.7.57')).toEqual({ kind: 'fix', self: true, pasted: '5.7.57', language: 'en' });
    expect(parseDiagnosisIntent('diagnose 5.7.57 for me')).toEqual({ kind: 'diagnose', self: true, pasted: '5.7.57', language: 'en' });
    expect(parseDiagnosisIntent("fix 5.7.57 for Seán O'Brien")).toEqual({ kind: 'fix', self: false, user: "Seán O'Brien", pasted: '5.7.57', language: 'en' });
  });

  test('the bot\'s @mention in a channel is not part of what is asked', () => {
    expect(parseDiagnosisIntent('<at>SMTP Gate</at> diagnose bob')).toEqual({ kind: 'diagnose', self: false, user: 'bob', language: 'en' });
  });

  test('diagnose <pasted NDR> for <user>: the user at the end, the NDR kept whole', () => {
    const ndr = "Remote Server returned '550 5.7.30 Basic authentication is not supported for Client Submission.'";
    expect(parseDiagnosisIntent(`diagnose ${ndr} for bob`)).toEqual({ kind: 'diagnose', self: false, user: 'bob', pasted: ndr, language: 'en' });
  });

  test('a pasted NDR ending "for more information." is not taken for a user named "more information"', () => {
    const text = "diagnose 535 5.7.139 Authentication unsuccessful. Visit https://aka.ms/smtp_auth_disabled for more information.";
    expect(parseDiagnosisIntent(text)).toMatchObject({ kind: 'diagnose', self: true });
  });

  test('names with accents and several words; Chinese names', () => {
    expect(parseDiagnosisIntent('diagnostica a José Núñez')).toMatchObject({ self: false, user: 'José Núñez', language: 'es' });
    expect(parseDiagnosisIntent('诊断 王伟')).toMatchObject({ self: false, user: '王伟', language: 'zh-CN' });
  });

  test('other commands are not diagnosis requests', () => {
    for (const text of ['enable SMTP for bob', 'smtp status bob', 'help', 'fixed it, thanks']) expect(parseDiagnosisIntent(text)).toBeUndefined();
  });
});
