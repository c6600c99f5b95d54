import { vi } from "vitest";

/**
 * Counts the PBKDF2 derivations (password hashes and checks) made while `run` runs. The Worker runs
 * in the tests' isolate, so a spy on crypto.subtle.deriveBits sees the Worker's own calls.
 */
export async function countingPbkdf2<T>(run: () => Promise<T>): Promise<{ result: T; pbkdf2: number }> {
  const spy = vi.spyOn(crypto.subtle, "deriveBits");
  try {
    const result = await run();
    const pbkdf2 = spy.mock.calls.filter(([algorithm]) => (algorithm as { name?: string }).name === "PBKDF2").length;
    return { result, pbkdf2 };
  } finally {
    spy.mockRestore();
  }
}
