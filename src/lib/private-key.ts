import { readFileSync } from "node:fs";
import type { Config } from "../config.ts";

/** The GitHub App's private key from PRIVATE_KEY (escaped newlines allowed) or PRIVATE_KEY_PATH. */
export function readPrivateKey(config: Pick<Config, "github">): string | undefined {
  const raw = config.github.privateKey ?? (config.github.privateKeyPath ? readFileSync(config.github.privateKeyPath, "utf8") : undefined);
  return raw?.replace(/\\n/g, "\n");
}
