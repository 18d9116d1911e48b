// The operator's admin token: TASKS_ADMIN_TOKEN when set, otherwise a random token generated on
// the server's first start into TASKS_DATA_DIR/admin-token (mode 0600), where the CLI finds it.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export const adminTokenPath = (dataDir: string): string => path.join(dataDir, "admin-token");

export async function readAdminToken(dataDir: string): Promise<string> {
  return (await readFile(adminTokenPath(dataDir), "utf8")).trim();
}

export async function resolveAdminToken(settings: { adminToken: string | undefined; dataDir: string }): Promise<string> {
  if (settings.adminToken) return settings.adminToken;
  const file = adminTokenPath(settings.dataDir);
  await mkdir(settings.dataDir, { recursive: true });
  try {
    // `wx` fails if the file exists, so two starts cannot overwrite each other's token.
    await writeFile(file, `${randomBytes(32).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  await chmod(file, 0o600);
  return readAdminToken(settings.dataDir);
}
