// What the secret scan looks for: secretlint's recommended rules, adjusted for hostile input,
// plus a few patterns secretlint misses (each one checked against it in the tests).
import type { lintSource } from "@secretlint/core";
import { rules as recommendedRules } from "@secretlint/secretlint-rule-preset-recommend";

type SecretlintConfig = Parameters<typeof lintSource>[0]["options"]["config"];
type SecretlintRule = SecretlintConfig["rules"][number];

const filterCommentsRule = "@secretlint/secretlint-rule-filter-comments";
const awsRule = "@secretlint/secretlint-rule-aws";

/**
 * The preset's rules registered one by one rather than through the preset, because:
 * - `secretlint-disable` comments must not work: the scanned text is written by the agent, which could
 *   otherwise hide a token behind one. secretlint 12 ignores `disabled` on a rule inside a preset, so
 *   leaving the comment filter out is the only way to turn it off.
 * - AWS access key IDs (AKIA…) are only reported with `enableIDScanRule`; the account-ID check that
 *   comes with it is allowed again, as a 12-digit account number is not a credential.
 */
export const secretlintConfig: SecretlintConfig = {
  rules: recommendedRules
    .filter((rule) => rule.meta.id !== filterCommentsRule)
    .map((rule): SecretlintRule => {
      const id = rule.meta.id;
      if (id !== awsRule) return { id, rule };
      return { id, rule, options: { enableIDScanRule: true }, allowMessageIds: ["AWSAccountID"] };
    }),
};

/** Plain words for secretlint's message ids; its own messages embed the secret, so they are never shown. */
export const secretlintLabels: Record<string, string> = {
  AWSAccessKeyID: "AWS access key ID",
  AWSSecretAccessKey: "AWS secret access key",
  PrivateKeyP12: "GCP service account key",
  PrivateKeyJSON: "GCP service account key",
  PackageJSON_xOauthToken: "GitHub token in a package URL",
  Npmrc_authToken: "npm auth token",
  NPM_ACCESS_TOKEN: "npm access token",
  SLACK_TOKEN: "Slack token",
  IncomingWebhook: "Slack incoming webhook URL",
  BasicAuth: "password in a URL",
  OPENAI_TOKEN: "OpenAI API key",
  ANTHROPIC_API_KEY: "Anthropic API key",
  GROQ_API_KEY: "Groq API key",
  HUGGINGFACE_USER_ACCESS_TOKEN: "Hugging Face token",
  LINEAR_API_TOKEN: "Linear API key",
  NOTION_INTEGRATION_TOKEN: "Notion integration token",
  PrivateKey: "private key",
  SENDGRID_KEY: "SendGrid API key",
  SHOPIFY_KEY: "Shopify token",
  GITHUB_TOKEN: "GitHub token",
  GITLAB_PERSONAL_ACCESS_TOKEN: "GitLab token",
  GRAFANA_CLOUD_API_TOKEN: "Grafana Cloud token",
  GRAFANA_SERVICE_ACCOUNT_TOKEN: "Grafana service account token",
  OPS_TOKEN: "1Password service account token",
  MongoDBConnection: "MongoDB connection string with a password",
  MySQLConnection: "MySQL connection string with a password",
  PostgreSQLConnection: "PostgreSQL connection string with a password",
  HASHICORP_VAULT_SERVICE_TOKEN: "Vault token",
  HASHICORP_VAULT_BATCH_TOKEN: "Vault token",
  HASHICORP_VAULT_RECOVERY_TOKEN: "Vault token",
  VERCEL_PERSONAL_ACCESS_TOKEN: "Vercel token",
  VERCEL_INTEGRATION_TOKEN: "Vercel token",
  VERCEL_APP_ACCESS_TOKEN: "Vercel token",
  DATABRICKS_PERSONAL_ACCESS_TOKEN: "Databricks token",
  DOCKER_PERSONAL_ACCESS_TOKEN: "Docker Hub token",
  FIGMA_PERSONAL_ACCESS_TOKEN: "Figma token",
};

export interface SupplementPattern {
  rule: string;
  label: string;
  pattern: RegExp;
}

/**
 * Gaps in secretlint 12's recommended rules, each confirmed by a test that secretlint alone misses it.
 * A hit that overlaps a secretlint finding is dropped, so these only ever add.
 */
export const supplementPatterns: SupplementPattern[] = [
  {
    // secretlint wants exactly 36 characters after the prefix and nothing word-like after them.
    rule: "tasks/github-token",
    label: "GitHub token",
    pattern: /(?<![A-Za-z0-9])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,}/g,
  },
  {
    // secretlint knows only API keys (sk-ant-api03-…AA); the claude runtime's OAuth tokens are
    // sk-ant-oat01-…, admin keys sk-ant-admin01-….
    rule: "tasks/anthropic-key",
    label: "Anthropic key",
    pattern: /(?<![A-Za-z0-9])sk-ant-[a-z]+\d*-[A-Za-z0-9_-]{32,}/g,
  },
  {
    // secretlint requires the T3BlbkFJ marker inside the key; the sk-proj-/sk-svcacct-/sk-admin- prefix
    // alone is specific enough.
    rule: "tasks/openai-key",
    label: "OpenAI API key",
    pattern: /(?<![A-Za-z0-9])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}/g,
  },
  {
    // Tasks' own model-gateway run tokens (src/gateway/run-tokens.ts): short-lived, but a live
    // one spends the run's model budget, so it never belongs in a diff, a log or a comment.
    rule: "tasks/run-token",
    label: "Tasks model-gateway run token",
    pattern: /(?<![A-Za-z0-9])tgw_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
  },
  {
    // secretlint skips bodies under 100 base64 characters (Ed25519 keys), ENCRYPTED PRIVATE KEY
    // blocks and legacy encrypted PEM (Proc-Type headers). A header followed by key material is enough.
    rule: "tasks/private-key",
    label: "private key",
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\r?\n|\\r?\\n)(?:Proc-Type:|[A-Za-z0-9+/=]{16,})/g,
  },
];
