/** Tests assert error codes, never messages. */

/** The `code` of what `fn` throws; undefined when it does not throw, 'NO_CODE' for an uncoded error. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return codeFrom(err);
  }
  return undefined;
}

/** The `code` `promise` rejects with; undefined when it resolves, 'NO_CODE' for an uncoded error. */
export async function codeOfAsync(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return codeFrom(err);
  }
  return undefined;
}

function codeFrom(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'NO_CODE';
}
