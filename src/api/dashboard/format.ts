// How times, durations and counts read on the dashboard (UTC, so every viewer sees the same).
export const formatTime = (date: Date | string): string => new Date(date).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export const formatCount = (count: number): string => count.toLocaleString("en-US");

/** A cost in US dollars to the cent; a few tokens' worth reads "< $0.01", not "$0.00". */
export const formatUsd = (usd: number): string => (usd > 0 && usd < 0.005 ? "< $0.01" : `$${usd.toFixed(2)}`);

export const statusLabel = (status: string): string => status.replace(/_/g, " ");
