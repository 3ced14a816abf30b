import pino from 'pino';

export type Logger = pino.Logger;

/** Paths pino blanks out wherever they appear: tokens and secrets never reach a log line. */
const redactPaths = [
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'password', '*.password', 'secret', '*.secret', 'clientSecret', '*.clientSecret',
  'MicrosoftAppPassword', '*.MicrosoftAppPassword', 'TENANT_CLIENT_SECRET', '*.TENANT_CLIENT_SECRET',
  'access_token', '*.access_token', 'token', '*.token',
];

export function createLogger(level: string, name = 'smtp-gate'): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } });
}
