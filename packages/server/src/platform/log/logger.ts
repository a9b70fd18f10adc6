import pino, { type Logger, type LoggerOptions } from 'pino';

// Secrets must never reach logs: these paths are redacted wherever they appear.
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-gitlab-token"]',
  'headers.authorization',
  'password',
  'token',
  'secret',
  'value',
  '*.password',
  '*.token',
  '*.secret',
  '*.value',
];

export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: redactPaths, censor: '[redacted]' } };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

export type { Logger };
