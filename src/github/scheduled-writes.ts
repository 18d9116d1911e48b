// Which requests the write scheduler owns, so the rate-limit retry of reads (retry-after.ts)
// leaves them alone: the scheduler waits for its writes itself, pausing the installation's queue.
const scheduledRequests = new WeakSet<object>();

export function markScheduledWrite(requestOptions: object): void {
  scheduledRequests.add(requestOptions);
}

/** True for a request the write scheduler sends, and retries after rate limits, itself. */
export function isScheduledWrite(requestOptions: object): boolean {
  return scheduledRequests.has(requestOptions);
}
