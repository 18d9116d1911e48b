// GitHub at the edge: signed deliveries into the real server, and GitHub's REST API through a
// fluent nock builder, so each test states the calls it expects and ends with none pending.
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import nock from "nock";

export const webhookSecret = "test-webhook-secret";
export const appPrivateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

/** Env that configures the server as a GitHub App. */
export const githubAppEnv = { APP_ID: "12345", PRIVATE_KEY: appPrivateKey, WEBHOOK_SECRET: webhookSecret, TASKS_PUBLIC_URL: "https://tasks.example.com" };

export { TestOctokit } from "./test-octokit.ts";

export function sign(body: string, secret = webhookSecret): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface Delivery {
  event: string;
  payload: unknown;
  id?: string;
  signature?: string | null;
  headers?: Record<string, string>;
  rawBody?: string;
}

export async function deliver(baseUrl: string, delivery: Delivery) {
  const body = delivery.rawBody ?? JSON.stringify(delivery.payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": delivery.event,
    "x-github-delivery": delivery.id ?? randomUUID(),
    ...delivery.headers,
  };
  const signature = delivery.signature === undefined ? sign(body) : delivery.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  const response = await fetch(`${baseUrl}/api/github/webhooks`, { method: "POST", headers, body });
  return { status: response.status, body: (await response.text()) || undefined };
}

type Body = Record<string, unknown>;

export class GitHubMock {
  readonly scope: nock.Scope;
  /** Request bodies by a short name, in the order GitHub received them. */
  readonly calls: { name: string; body: Body }[] = [];

  constructor(readonly owner = "posthog", readonly repo = "posthog", apiUrl = "https://api.github.com", installationId = 4242) {
    this.scope = nock(apiUrl);
    this.installationToken(installationId);
  }

  private record(name: string) {
    return (body: Body) => {
      this.calls.push({ name, body });
      return true;
    };
  }

  installationToken(installationId = 4242): this {
    // Probot caches the token per installation, so later tests may not ask again.
    this.scope
      .post(`/app/installations/${installationId}/access_tokens`)
      .optionally()
      .reply(201, { token: "ghs_installation_token", expires_at: "2999-01-01T00:00:00Z", permissions: { issues: "write" } });
    return this;
  }

  permission(login: string, roleName: string): this {
    const permission = roleName === "maintain" ? "write" : roleName === "triage" ? "read" : roleName;
    this.scope.get(`/repos/${this.owner}/${this.repo}/collaborators/${login}/permission`).reply(200, { permission, role_name: roleName, user: { login } });
    return this;
  }

  notCollaborator(login: string): this {
    this.scope.get(`/repos/${this.owner}/${this.repo}/collaborators/${login}/permission`).reply(404, { message: "Not Found" });
    return this;
  }

  issueReaction(issue = 7): this {
    this.scope.post(`/repos/${this.owner}/${this.repo}/issues/${issue}/reactions`, this.record("issue reaction")).reply(201, { id: 1, content: "eyes" });
    return this;
  }

  commentReaction(commentId = 9001): this {
    this.scope.post(`/repos/${this.owner}/${this.repo}/issues/comments/${commentId}/reactions`, this.record("comment reaction")).reply(201, { id: 2, content: "eyes" });
    return this;
  }

  /** An issue's comments: a bot's are this App's (githubAppEnv's APP_ID) unless `appId` names another. */
  listComments(comments: { id: number; body: string; bot?: boolean; appId?: number }[] = [], issue = 7): this {
    this.scope
      .get(`/repos/${this.owner}/${this.repo}/issues/${issue}/comments`)
      .query(true)
      .reply(200, comments.map(issueComment));
    return this;
  }

  createComment(issue = 7, id = 555): this {
    this.scope.post(`/repos/${this.owner}/${this.repo}/issues/${issue}/comments`, this.record("comment")).reply(201, { id });
    return this;
  }

  updateComment(commentId: number): this {
    this.scope.patch(`/repos/${this.owner}/${this.repo}/issues/comments/${commentId}`, this.record(`update comment ${commentId}`)).reply(200, { id: commentId });
    return this;
  }

  /** An edit of a comment someone deleted on GitHub. */
  updateDeletedComment(commentId: number): this {
    this.scope.patch(`/repos/${this.owner}/${this.repo}/issues/comments/${commentId}`, this.record(`update comment ${commentId}`)).reply(404, { message: "Not Found" });
    return this;
  }

  bodiesOf(name: string): Body[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.body);
  }

  pending(): string[] {
    return this.scope.pendingMocks();
  }
}

/** A comment as GitHub lists it: an App's carries its bot user and `performed_via_github_app`. */
function issueComment(c: { id: number; body: string; bot?: boolean; appId?: number }) {
  if (c.bot === false) return { id: c.id, body: c.body, user: { login: "mallory", id: 666, type: "User" }, performed_via_github_app: null };
  const appId = c.appId ?? Number(githubAppEnv.APP_ID);
  const slug = appId === Number(githubAppEnv.APP_ID) ? "tasks" : `other-app-${appId}`;
  return { id: c.id, body: c.body, user: { login: `${slug}[bot]`, id: 40_000 + appId, type: "Bot" }, performed_via_github_app: { id: appId, slug } };
}

/** Lets requests to the local server through while GitHub is mocked. */
export function allowOnlyLocalhost(): void {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
}
