// Polling for a condition in integration tests: the deadline only bounds a failing test.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what = 'a condition', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}
