/** The errno code of a failed fs call (ENOENT, EACCES, …), or undefined for an error without one. */
export const errnoCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/**
 * The file is there but this process may not read it (EACCES; EPERM from /proc files guarded by ptrace access).
 * Unlike ENOENT (gone meanwhile), this hides something that exists, so callers report it rather than skip it.
 */
export function isPermissionDenied(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'EACCES' || code === 'EPERM';
}
