// One check /readyz runs: a name, and a probe that resolves (optionally with details worth
// showing an operator) or throws why the process is not ready. Rooms define their own checks
// (db/ for the database, the composition root for the engine); api/ runs them.

/** Shown as-is in /readyz: plain values only, never a connection string or a token. */
export type ReadinessDetails = Record<string, string | number | boolean>;

export interface ReadinessCheck {
  name: string;
  probe(): Promise<ReadinessDetails | void>;
}
