import { parseDiagnosisIntent } from '../../src/diagnosis/intent';

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
