import { formatFindings, scanForSecrets } from "../publish/secret-scan.ts";

/** Agent text goes to GitHub only when the secret scan finds nothing in it. */
export async function withoutSecrets(where: string, text: string): Promise<string> {
  const findings = await scanForSecrets([{ where, text }]);
  return findings.length === 0 ? text : `Output withheld: it looked like it contained a secret (${formatFindings(findings)}).`;
}
