// One-time `state` values for the manifest flow. The setup page issues one, GitHub hands it back
// on its redirect to /setup/callback, and the callback accepts each at most once, within its
// lifetime, so a code cannot be pushed into the callback by anyone who did not start the flow here.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export interface SetupStates {
  issue(): string;
  /** True once for a state this store issued that has not expired; false for anything else. */
  consume(state: string): boolean;
}

export interface SetupStatesOptions {
  /** GitHub wants the code exchanged within an hour, so a state need not outlive that. */
  ttlMs?: number;
  /** Anyone who can load the page can mint states: the oldest give way rather than memory. */
  max?: number;
  now?: () => number;
}

// Digests have one length whatever was sent, which timingSafeEqual needs.
const digest = (state: string) => createHash("sha256").update(state).digest();

export function createSetupStates(options: SetupStatesOptions = {}): SetupStates {
  const ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  const max = options.max ?? 100;
  const now = options.now ?? Date.now;
  let pending: { digest: Buffer; expiresAt: number }[] = [];
  const prune = () => {
    const time = now();
    pending = pending.filter((entry) => entry.expiresAt > time);
  };

  return {
    issue() {
      prune();
      const state = randomBytes(32).toString("base64url");
      pending.push({ digest: digest(state), expiresAt: now() + ttlMs });
      if (pending.length > max) pending.shift();
      return state;
    },
    consume(state) {
      prune();
      const presented = digest(state);
      // Every entry is compared, so the time taken does not tell which one matched.
      let match = -1;
      pending.forEach((entry, index) => {
        if (timingSafeEqual(entry.digest, presented)) match = index;
      });
      if (match < 0) return false;
      pending.splice(match, 1);
      return true;
    },
  };
}
