/** Readable lines for a failed zod parse of a user's file, flags or environment. */
import type { z } from 'zod';

/**
 * One line per problem: unknown keys named with their full path (and the file), a bad value with its key, where it
 * came from (`source(key)`, when known) and what was expected.
 */
export function issueLines(err: z.ZodError, source: (key: string) => string | undefined = () => undefined, file?: string): string[] {
  return err.issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const where = path.length ? `${path.join('.')}.` : '';
      return `unknown key ${issue.keys.map((k) => where + k).join(', ')}${file ? ` in ${file}` : ''}`;
    }
    const name = path.join('.');
    let message = issue.message;
    if (issue.code === 'invalid_type') message = `expected ${issue.expected}`;
    if (issue.code === 'invalid_value' && 'values' in issue) message = `expected one of ${issue.values.map(String).join(', ')}`;
    const from = source(name);
    return `${name}${from ? ` (from ${from})` : ''}: ${message}`;
  });
}
