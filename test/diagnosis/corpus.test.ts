import { parseBounce } from '../../src/diagnosis/bounce';
import { corpus, notBounces } from './corpus';

describe('bounce corpus: realistic pasted texts → finding codes', () => {
  test('the corpus covers every format family and all five languages', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.lang))).toEqual(new Set(['en', 'es', 'pt', 'zh-CN', 'ro']));
    const texts = corpus.map((c) => c.text).join('\n');
    for (const marker of ['Remote Server returned', 'smtplib', 'System.Net.Mail', 'Send-MailMessage', 'nodemailer', 'PHPMailer', 'MailKit', 'javax.mail', 'I got a 5.7.57']) {
      expect(texts).toContain(marker);
    }
  });

  test.each(corpus.map((c) => [c.name, c] as const))('%s', (_name, sample) => {
    const finding = parseBounce(sample.text);
    expect(finding?.code).toBe(sample.code);
    // The line shown back is from the pasted text, never longer than a card line should be.
    expect(finding!.line.length).toBeLessThanOrEqual(300);
    expect(finding!.line.length).toBeGreaterThan(0);
    if (sample.line) expect(finding!.line).toContain(sample.line);
  });

  test.each(notBounces.map((t) => [JSON.stringify(t), t] as const))('no SMTP reply in %s', (_name, text) => {
    expect(parseBounce(text)).toBeUndefined();
  });

  test('the Outlook NDR shows back the Remote Server line and keeps the less specific code as another', () => {
    const finding = parseBounce(corpus[0]!.text)!;
    expect(finding.line).toMatch(/^Remote Server returned '530 5\.7\.57/);
    expect(finding.enhancedStatus).toBe('5.7.139');
    expect(finding.replyCode).toBe('535');
    expect(finding.others).toEqual(['CLIENT_NOT_AUTHENTICATED']);
  });

  test('the reply code is found in the shapes clients write it: "535 ", "535: ", "(535, b\'"', () => {
    expect(parseBounce('535 5.7.3 Authentication unsuccessful')!.replyCode).toBe('535');
    expect(parseBounce('AuthenticationException: 535: 5.7.139 Authentication unsuccessful')!.replyCode).toBe('535');
    expect(parseBounce("SMTPAuthenticationError: (535, b'5.7.139 Authentication unsuccessful')")!.replyCode).toBe('535');
    expect(parseBounce('I got a 5.7.57')!.replyCode).toBeNull();
  });
});
