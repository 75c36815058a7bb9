/** Structured JSON logging (pino). Secrets never reach here: callers pass redacted values. */
import { pino, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { app: 'silentwatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Defence in depth: any field carrying credentials is censored even if a caller forgets to redact it.
      redact: { paths: ['password', '*.password', 'redis_url', '*.redis_url', 'api_key', '*.api_key', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    pino.destination({ dest: destination === process.stderr ? 2 : 1, sync: true }),
  );
}

/** A logger that drops everything: for unit tests and the doc generator. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
