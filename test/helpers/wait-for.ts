// A bounded wait for a condition that another process or a background loop brings about.
// The bound only stops a broken test from hanging; nothing asserts how long the wait took.
export async function waitFor(check: () => Promise<boolean>, what = "the condition", timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} was not met within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
