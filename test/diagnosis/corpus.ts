import type { BounceCode } from '../../src/diagnosis/bounce';

/**
 * Bounce texts as people paste them, across formats and our five languages, with the finding each
 * must give. `line` is a fragment the recognised line must contain, when the case is about which line.
 */
export interface CorpusCase {
  name: string;
  lang: 'en' | 'es' | 'pt' | 'zh-CN' | 'ro';
  text: string;
  code: BounceCode;
  line?: string;
}

const host = '[SN4PR0601CA0002.namprd06.prod.outlook.com 2026-11-30T08:14:02.123Z 08DD1A2B3C4D5E6F]';

export const corpus: CorpusCase[] = [
  // --- Outlook NDR bodies ---------------------------------------------------------------------------
  {
    name: 'Outlook NDR, mailbox disabled inside a 5.7.57', lang: 'en', code: 'SMTP_AUTH_DISABLED_MAILBOX', line: '5.7.139',
    text: `Delivery has failed to these recipients or groups:\n\nreports@contoso.com\nYour message couldn't be delivered.\n\nDiagnostic information for administrators:\n\nGenerating server: scanner01.contoso.local\n\nRemote Server returned '530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. ${host}'`,
  },
  {
    name: 'Outlook NDR, tenant disabled', lang: 'en', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: `Remote Server returned '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. ${host}'`,
  },
  {
    name: 'Outlook NDR, 5.7.30', lang: 'en', code: 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION',
    text: `Your message to finance@contoso.com couldn't be delivered.\nRemote Server returned '550 5.7.30 Basic authentication is not supported for Client Submission. ${host}'`,
  },
  {
    name: 'Outlook NDR, send as denied', lang: 'en', code: 'SEND_AS_DENIED',
    text: `Remote Server returned '550 5.7.60 SMTP; Client does not have permissions to send as this sender ${host}'`,
  },
  {
    name: 'Outlook NDR, recipient not found', lang: 'en', code: 'NOT_SMTP_AUTH',
    text: `Your message to jdoe@fabrikam.com couldn't be delivered.\njdoe wasn't found at fabrikam.com.\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'`,
  },
  {
    name: 'Outlook NDR in Spanish, person writes Spanish', lang: 'es', code: 'SMTP_AUTH_DISABLED_MAILBOX',
    text: `Hola, el escáner de la planta 2 ya no envía correos, me llega esto:\n\nNo se pudo entregar el mensaje.\nEl servidor remoto devolvió '535 5.7.139 Error de autenticación, SmtpClientAuthentication está deshabilitado para el buzón. Visite https://aka.ms/smtp_auth_disabled para obtener más información.'`,
  },
  {
    name: 'Outlook NDR in Portuguese, tenant', lang: 'pt', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: `Bom dia, a impressora parou de mandar e-mail.\nO servidor remoto retornou '535 5.7.139 Falha na autenticação, SmtpClientAuthentication está desabilitado para o locatário. Visite https://aka.ms/smtp_auth_disabled para obter mais informações.'`,
  },
  {
    name: 'Outlook NDR in Chinese, mailbox', lang: 'zh-CN', code: 'SMTP_AUTH_DISABLED_MAILBOX',
    text: `你好，扫描仪发不了邮件了，退信如下：\n远程服务器返回“535 5.7.139 身份验证失败，已为邮箱禁用 SmtpClientAuthentication。有关详细信息，请访问 https://aka.ms/smtp_auth_disabled。”`,
  },
  {
    name: 'Outlook NDR in Romanian, tenant', lang: 'ro', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: `Bună ziua, imprimanta nu mai trimite e-mailuri. Mesajul primit:\nServerul la distanță a returnat „535 5.7.139 Autentificare nereușită, SmtpClientAuthentication este dezactivat pentru entitatea găzduită. Vizitați https://aka.ms/smtp_auth_disabled pentru mai multe informații.”`,
  },
  {
    name: 'Outlook NDR, relay busy 4.7.0', lang: 'en', code: 'NOT_SMTP_AUTH',
    text: `Delivery to the following recipient has been delayed.\nRemote Server returned '421 4.7.0 Temporary server error. Please try again later. PRX4'`,
  },
  {
    name: 'Outlook NDR, IP blocked', lang: 'en', code: 'IP_BLOCKED',
    text: `Remote Server returned '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7230) ${host}'`,
  },
  // --- Device and log lines -------------------------------------------------------------------------
  {
    name: 'printer log line, 5.7.57', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED',
    text: '2026-11-30 08:14:02 [SMTP] Send failed: 530 5.7.57 Client not authenticated to send mail [AM0PR06CA0123.eurprd06.prod.outlook.com]',
  },
  {
    name: 'scanner log, anonymous MAIL FROM wording', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED',
    text: 'Scan to Email Error 0x0917: 530 5.7.57 Client not authenticated to send anonymous mail during MAIL FROM [PR3P191CA0012.EURP191.PROD.OUTLOOK.COM]',
  },
  {
    name: 'copier job log, 5.7.3', lang: 'en', code: 'BAD_CREDENTIALS',
    text: 'Job 4471 E-mail TX NG  Code: 535 5.7.3 Authentication unsuccessful [BN6PR11CA0012.namprd11.prod.outlook.com]',
  },
  {
    name: 'Postfix relay log', lang: 'en', code: 'MFA_OR_CA_BLOCK',
    text: 'Nov 30 08:14:02 relay01 postfix/smtp[2211]: 4F1A2B: SASL authentication failed; server smtp.office365.com[52.96.10.2] said: 535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. [DB8PR04CA0001.eurprd04.prod.outlook.com]',
  },
  {
    name: 'Exim log with security defaults', lang: 'en', code: 'SECURITY_DEFAULTS_BLOCK',
    text: '2026-11-30 08:14:02 1tGx3a-0004Ux-3c smtp.office365.com [40.99.1.2] SMTP error from remote mail server after AUTH LOGIN: 535 5.7.139 Authentication unsuccessful, user is locked by your organization\'s security defaults policy. Contact your administrator.',
  },
  {
    name: 'NAS alert email', lang: 'en', code: 'BASIC_AUTH_DISABLED',
    text: 'Test email failed. Server response: 535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [LO4P123CA0001.GBRP123.PROD.OUTLOOK.COM]',
  },
  {
    name: 'UPS management card, account locked', lang: 'en', code: 'ACCOUNT_LOCKED',
    text: 'SMTP: AUTH failed - 535 5.7.139 Authentication unsuccessful, account locked due to too many failed attempts.',
  },
  {
    name: 'log line with IP that contains 5.7.139 digits, and a 5.7.57', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED', line: '5.7.57',
    text: 'connect to 10.5.7.139:587 ok\nSMTP<- 530 5.7.57 Client not authenticated to send mail',
  },
  {
    name: 'device log, unclassified 5.7.139', lang: 'en', code: 'AUTH_UNSUCCESSFUL',
    text: 'smtp_send(): server said 535 5.7.139 Authentication unsuccessful [MW4PR03CA0001.namprd03.prod.outlook.com]',
  },
  // --- Python smtplib -------------------------------------------------------------------------------
  {
    name: 'smtplib, credentials incorrect', lang: 'en', code: 'BAD_CREDENTIALS',
    text: `Traceback (most recent call last):\n  File "send_report.py", line 42, in <module>\n    server.login(user, password)\n  File "/usr/lib/python3.12/smtplib.py", line 750, in login\n    raise last_exception\nsmtplib.SMTPAuthenticationError: (535, b'5.7.139 Authentication unsuccessful, the user credentials were incorrect. ${host}')`,
  },
  {
    name: 'smtplib, mailbox disabled', lang: 'en', code: 'SMTP_AUTH_DISABLED_MAILBOX',
    text: `smtplib.SMTPAuthenticationError: (535, b'5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. ${host}')`,
  },
  {
    name: 'smtplib, sender refused 5.7.57', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED',
    text: "smtplib.SMTPSenderRefused: (530, b'5.7.57 Client not authenticated to send mail. [DM6PR02CA0001.namprd02.prod.outlook.com]', 'alerts@contoso.com')",
  },
  {
    name: 'smtplib in a Spanish message, basic disabled', lang: 'es', code: 'BASIC_AUTH_DISABLED',
    text: "Mi script de Python falla con esto, ¿me ayudan?\nsmtplib.SMTPAuthenticationError: (535, b'5.7.139 Authentication unsuccessful, basic authentication is disabled.')",
  },
  {
    name: 'smtplib, recipients refused 5.1.1', lang: 'en', code: 'NOT_SMTP_AUTH',
    text: "smtplib.SMTPRecipientsRefused: {'nobody@contoso.com': (550, b'5.1.1 RESOLVER.ADR.RecipNotFound; not found')}",
  },
  // --- System.Net.Mail / Send-MailMessage -----------------------------------------------------------
  {
    name: 'System.Net.Mail, criteria', lang: 'en', code: 'MFA_OR_CA_BLOCK',
    text: 'System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.\n   at System.Net.Mail.MailCommand.CheckResponse(SmtpStatusCode statusCode, String response)',
  },
  {
    name: 'System.Net.Mail, 5.7.57 only', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED',
    text: 'System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM',
  },
  {
    name: 'Send-MailMessage, tenant', lang: 'en', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: "Send-MailMessage : The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.\nAt C:\\Scripts\\Notify.ps1:12 char:1\n+ Send-MailMessage -SmtpServer smtp.office365.com -Port 587 -UseSsl ...\n    + CategoryInfo          : InvalidOperation: (System.Net.Mail.SmtpClient:SmtpClient) [Send-MailMessage], SmtpException",
  },
  {
    name: 'Send-MailMessage, Portuguese person, translated 5.7.139 credentials', lang: 'pt', code: 'BAD_CREDENTIALS',
    text: 'O meu script PowerShell deu este erro, o que faço?\nSend-MailMessage : O servidor SMTP requer uma conexão segura ou o cliente não foi autenticado. A resposta do servidor foi: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Falha na autenticação, as credenciais do usuário estavam incorretas.',
  },
  {
    name: 'Send-MailMessage, Chinese person, 5.7.57 without code text (localized .NET message)', lang: 'zh-CN', code: 'CLIENT_NOT_AUTHENTICATED',
    text: '我的脚本报错：Send-MailMessage : SMTP 服务器要求安全连接或客户端未通过身份验证。 服务器响应为: 5.7.57 Client not authenticated to send mail.',
  },
  {
    name: 'System.Net.Mail, Romanian person, security defaults in Romanian', lang: 'ro', code: 'SECURITY_DEFAULTS_BLOCK',
    text: 'Aplicația noastră dă eroarea asta de azi dimineață:\nSystem.Net.Mail.SmtpException: Serverul SMTP necesită o conexiune securizată sau clientul nu a fost autentificat. Răspunsul serverului a fost: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Autentificare nereușită, utilizatorul este blocat de politica valorilor implicite de securitate a organizației.',
  },
  // --- nodemailer -----------------------------------------------------------------------------------
  {
    name: 'nodemailer EAUTH, tenant', lang: 'en', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: `Error: Invalid login: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. ${host}\n    at SMTPConnection._formatError (/app/node_modules/nodemailer/lib/smtp-connection/index.js:809:19) {\n  code: 'EAUTH',\n  response: '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',\n  responseCode: 535,\n  command: 'AUTH LOGIN'\n}`,
  },
  {
    name: 'nodemailer EENVELOPE 5.7.60', lang: 'en', code: 'SEND_AS_DENIED',
    text: "Error: Message failed: 550 5.7.60 SMTP; Client does not have permissions to send as this sender [BY5PR04CA0001.namprd04.prod.outlook.com]\n  code: 'EMESSAGE', responseCode: 550, command: 'DATA'",
  },
  {
    name: 'nodemailer, Spanish person, translated criteria', lang: 'es', code: 'MFA_OR_CA_BLOCK',
    text: "Nuestra app en Node ya no manda correos: Error: Invalid login: 535 5.7.139 Error de autenticación, la solicitud no cumplía los criterios para autenticarse correctamente. Póngase en contacto con el administrador. code: 'EAUTH'",
  },
  {
    name: 'nodemailer, 5.7.3', lang: 'en', code: 'BAD_CREDENTIALS',
    text: "Error: Invalid login: 535 5.7.3 Authentication unsuccessful [SA0PR11CA0001.namprd11.prod.outlook.com]\n  code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN'",
  },
  // --- PHPMailer ------------------------------------------------------------------------------------
  {
    name: 'PHPMailer debug, basic disabled', lang: 'en', code: 'BASIC_AUTH_DISABLED',
    text: "PHPMailer SMTPDebug output:\n2026-11-30 08:14:02 SERVER -> CLIENT: 535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [PH0PR07CA0001.namprd07.prod.outlook.com]\n2026-11-30 08:14:02 SMTP ERROR: Password command failed: 535 5.7.139 Authentication unsuccessful, basic authentication is disabled.\nSMTP Error: Could not authenticate.",
  },
  {
    name: 'PHPMailer, Portuguese person, translated basic disabled', lang: 'pt', code: 'BASIC_AUTH_DISABLED',
    text: 'o site em PHP não envia mais o formulário de contato:\nSMTP ERROR: Password command failed: 535 5.7.139 Falha na autenticação, a autenticação básica está desabilitada.\nSMTP Error: Could not authenticate.',
  },
  {
    name: 'PHPMailer, Chinese person, translated credentials', lang: 'zh-CN', code: 'BAD_CREDENTIALS',
    text: '网站表单发不出邮件，日志：SMTP ERROR: Password command failed: 535 5.7.139 身份验证失败，用户凭据不正确。\nSMTP Error: Could not authenticate.',
  },
  {
    name: 'PHPMailer, 5.7.57 on MAIL FROM', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED',
    text: 'SMTP ERROR: MAIL FROM command failed: 530 5.7.57 Client not authenticated to send mail. [CH2PR04CA0001.namprd04.prod.outlook.com]\nSMTP Error: The following From address failed: noreply@contoso.com',
  },
  // --- MailKit --------------------------------------------------------------------------------------
  {
    name: 'MailKit, credentials', lang: 'en', code: 'BAD_CREDENTIALS',
    text: 'MailKit.Security.AuthenticationException: 535: 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [VI1PR04CA0001.eurprd04.prod.outlook.com]\n   at MailKit.Net.Smtp.SmtpClient.AuthenticateAsync(...)',
  },
  {
    name: 'MailKit, Romanian person, translated mailbox', lang: 'ro', code: 'SMTP_AUTH_DISABLED_MAILBOX',
    text: 'Serviciul nostru .NET aruncă: MailKit.Security.AuthenticationException: 535: 5.7.139 Autentificare nereușită, SmtpClientAuthentication este dezactivat pentru cutia poștală.',
  },
  {
    name: 'MailKit, 5.7.30', lang: 'en', code: 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION',
    text: 'MailKit.Net.Smtp.SmtpCommandException: 5.7.30 Basic authentication is not supported for Client Submission.\n   StatusCode: 550',
  },
  // --- Java Mail ------------------------------------------------------------------------------------
  {
    name: 'Java Mail, 5.7.3', lang: 'en', code: 'BAD_CREDENTIALS',
    text: 'javax.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful [BN6PR1701CA0012.namprd17.prod.outlook.com]\n\tat com.sun.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:947)',
  },
  {
    name: 'Jakarta Mail, security defaults', lang: 'en', code: 'SECURITY_DEFAULTS_BLOCK',
    text: "jakarta.mail.AuthenticationFailedException: 535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
  },
  {
    name: 'Java Mail, Spanish person, translated tenant', lang: 'es', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: 'El ERP en Java tira este error al mandar facturas:\njavax.mail.AuthenticationFailedException: 535 5.7.139 Error de autenticación, SmtpClientAuthentication está deshabilitado para el inquilino.',
  },
  {
    name: 'Java Mail, 5.7.708', lang: 'en', code: 'IP_BLOCKED',
    text: 'com.sun.mail.smtp.SMTPSendFailedException: 550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.',
  },
  // --- Bare mentions, the person's own words --------------------------------------------------------
  { name: 'bare mention, English', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED', text: 'I got a 5.7.57' },
  { name: 'bare mention, English with punctuation', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED', text: 'my scanner keeps saying 5.7.57. help?' },
  { name: 'bare mention, Spanish', lang: 'es', code: 'CLIENT_NOT_AUTHENTICATED', text: 'me sale el error 5.7.57 cuando escaneo' },
  { name: 'bare mention, Portuguese', lang: 'pt', code: 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION', text: 'recebi um 5.7.30 hoje de manhã' },
  { name: 'bare mention, Chinese', lang: 'zh-CN', code: 'CLIENT_NOT_AUTHENTICATED', text: '我收到了 5.7.57 错误' },
  { name: 'bare mention, Romanian', lang: 'ro', code: 'AUTH_UNSUCCESSFUL', text: 'am primit eroarea 5.7.139 de la imprimantă' },
  { name: 'bare mention, Chinese without spaces', lang: 'zh-CN', code: 'AUTH_UNSUCCESSFUL', text: '打印机报5.7.139错误' },
  { name: 'bare mention, two codes, most specific wins', lang: 'en', code: 'BASIC_AUTH_NOT_SUPPORTED_SUBMISSION', text: 'first it was 5.7.57, now it is 5.7.30' },
  { name: 'bare mention of a non-auth code, Spanish', lang: 'es', code: 'NOT_SMTP_AUTH', text: 'me rebota con 550 5.1.1, ¿es lo de SMTP AUTH?' },
  { name: 'bare mention of 5.7.708, Portuguese', lang: 'pt', code: 'IP_BLOCKED', text: 'o servidor responde 5.7.708, o que significa?' },
  { name: 'bare mention of 4.7.0, Romanian', lang: 'ro', code: 'NOT_SMTP_AUTH', text: 'primesc 421 4.7.0 de la server' },
  // --- Exchange's reply translated, with the person's words -----------------------------------------
  {
    name: 'Spanish: security defaults translated', lang: 'es', code: 'SECURITY_DEFAULTS_BLOCK',
    text: 'el correo de la impresora falla: 535 5.7.139 Error de autenticación, el usuario está bloqueado por la directiva de valores predeterminados de seguridad de la organización.',
  },
  {
    name: 'Spanish: credentials translated', lang: 'es', code: 'BAD_CREDENTIALS',
    text: '535 5.7.139 Error de autenticación, las credenciales del usuario eran incorrectas.',
  },
  {
    name: 'Spanish: account locked translated', lang: 'es', code: 'ACCOUNT_LOCKED',
    text: 'No puedo enviar: 535 5.7.139 Error de autenticación, cuenta bloqueada por demasiados intentos fallidos.',
  },
  {
    name: 'Portuguese: mailbox translated', lang: 'pt', code: 'SMTP_AUTH_DISABLED_MAILBOX',
    text: 'A multifuncional mostra: 535 5.7.139 Falha na autenticação, SmtpClientAuthentication está desabilitado para a caixa de correio.',
  },
  {
    name: 'Portuguese: security defaults translated', lang: 'pt', code: 'SECURITY_DEFAULTS_BLOCK',
    text: '535 5.7.139 Falha na autenticação, o usuário está bloqueado pela política de padrões de segurança da sua organização.',
  },
  {
    name: 'Portuguese: criteria translated', lang: 'pt', code: 'MFA_OR_CA_BLOCK',
    text: 'Erro no sistema: 535 5.7.139 Falha na autenticação, a solicitação não atendeu aos critérios para ser autenticada com êxito.',
  },
  {
    name: 'Portuguese: account locked translated', lang: 'pt', code: 'ACCOUNT_LOCKED',
    text: '535 5.7.139 Falha na autenticação, conta bloqueada devido a muitas tentativas com falha.',
  },
  {
    name: 'Chinese: tenant translated', lang: 'zh-CN', code: 'SMTP_AUTH_DISABLED_TENANT',
    text: '535 5.7.139 身份验证失败，已为租户禁用 SmtpClientAuthentication。',
  },
  {
    name: 'Chinese: security defaults translated', lang: 'zh-CN', code: 'SECURITY_DEFAULTS_BLOCK',
    text: '应用发送失败：535 5.7.139 身份验证失败，用户已被你组织的安全默认值策略锁定。请联系管理员。',
  },
  {
    name: 'Chinese: criteria translated', lang: 'zh-CN', code: 'MFA_OR_CA_BLOCK',
    text: '535 5.7.139 身份验证失败，请求不符合成功进行身份验证的条件。请联系你的管理员。',
  },
  {
    name: 'Chinese: basic disabled translated', lang: 'zh-CN', code: 'BASIC_AUTH_DISABLED',
    text: '复印机提示 535 5.7.139 身份验证失败，基本身份验证已禁用。',
  },
  {
    name: 'Chinese: account locked translated', lang: 'zh-CN', code: 'ACCOUNT_LOCKED',
    text: '535 5.7.139 身份验证失败，由于尝试失败次数过多，帐户已锁定。',
  },
  {
    name: 'Romanian: criteria translated', lang: 'ro', code: 'MFA_OR_CA_BLOCK',
    text: 'Scanerul spune: 535 5.7.139 Autentificare nereușită, solicitarea nu a îndeplinit criteriile pentru a fi autentificată cu succes.',
  },
  {
    name: 'Romanian: basic disabled translated', lang: 'ro', code: 'BASIC_AUTH_DISABLED',
    text: '535 5.7.139 Autentificare nereușită, autentificarea de bază este dezactivată.',
  },
  {
    name: 'Romanian: credentials translated', lang: 'ro', code: 'BAD_CREDENTIALS',
    text: 'Aplicația raportează 535 5.7.139 Autentificare nereușită, acreditările utilizatorului au fost incorecte.',
  },
  {
    name: 'Romanian: account locked translated', lang: 'ro', code: 'ACCOUNT_LOCKED',
    text: '535 5.7.139 Autentificare nereușită, contul este blocat din cauza prea multor încercări nereușite.',
  },
  {
    name: 'Spanish: unclassifiable variant falls back to the code', lang: 'es', code: 'AUTH_UNSUCCESSFUL',
    text: 'Me sale 535 5.7.139 Error de autenticación y nada más.',
  },
  // --- Wording without a code, and what is not a bounce at all ---------------------------------------
  {
    name: 'retyped screenshot without the code', lang: 'en', code: 'SMTP_AUTH_DISABLED_MAILBOX',
    text: 'the screen says: Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox',
  },
  {
    name: '.NET message without the server response', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED',
    text: 'The SMTP server requires a secure connection or the client was not authenticated.',
  },
  {
    name: 'a mix: 5.1.1 for one recipient, 5.7.57 for the sender', lang: 'en', code: 'CLIENT_NOT_AUTHENTICATED', line: '5.7.57',
    text: "first try: 550 5.1.1 RESOLVER.ADR.RecipNotFound\nsecond try: 530 5.7.57 Client not authenticated to send mail",
  },
  {
    name: 'old Exchange send-as as 5.7.1', lang: 'en', code: 'SEND_AS_DENIED',
    text: '550 5.7.1 Client does not have permissions to send as this sender',
  },
];

/** Text that holds no SMTP reply: the parser finds nothing. */
export const notBounces: string[] = [
  'enable SMTP for bob',
  'hello, can you help me?',
  'version 4.7.0.1 installed on 10.5.7.139',
  'the meeting is on 5.12.2026 at 14:00',
  '',
];
