// Small, defensive readers for the JSON-lines event streams the Claude Code and Codex CLIs print.
// The streams come from a process in the untrusted sandbox: a line that is not JSON, or a field
// of an unexpected type, is skipped rather than trusted or thrown on.

export type JsonObject = Record<string, unknown>;

/** The object on this line, or null when the line is not a JSON object. */
export function parseJsonObject(line: string): JsonObject | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

export const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

export const stringField = (object: JsonObject | null | undefined, key: string): string | undefined => {
  const value = object?.[key];
  return typeof value === "string" ? value : undefined;
};

export const objectField = (object: JsonObject | null | undefined, key: string): JsonObject | undefined => {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
};

export const arrayField = (object: JsonObject | null | undefined, key: string): unknown[] => {
  const value = object?.[key];
  return Array.isArray(value) ? value : [];
};

/** Every JSON object in a block of JSON-lines text, in order. */
export function parseJsonLines(text: string): JsonObject[] {
  const objects: JsonObject[] = [];
  for (const line of text.split("\n")) {
    const object = parseJsonObject(line);
    if (object) objects.push(object);
  }
  return objects;
}

/** A one-line, length-capped rendering of a value for a live log. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Model names arrive from the repository's .github/tasks.yml — GitHub-controlled. They are
 * passed as their own argv element (never through a shell), and must also not look like an
 * option, so that a "model" such as `--dangerously-skip-permissions` cannot become a flag.
 */
export const safeModelName = /^[A-Za-z0-9][A-Za-z0-9._:/@[\]-]{0,127}$/;
