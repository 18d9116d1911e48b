// More of GitHub's REST API for the github/ module tests: tokens, pull requests, contents and
// check runs, in the same fluent style as test/helpers/github.ts (whose GitHubMock this extends).
import nock from "nock";
import { GitHubMock } from "../helpers/github.ts";

type Body = Record<string, unknown>;

export class GitHubApiMock extends GitHubMock {
  private log(name: string) {
    return (body: Body) => {
      this.calls.push({ name, body });
      return true;
    };
  }

  /** POST /app/installations/:id/access_tokens, answered only for a JWT (app) caller. */
  mintToken(installationId: number, reply: { token?: string; permissions?: Record<string, string>; expiresAt?: string } = {}): this {
    this.scope
      .post(`/app/installations/${installationId}/access_tokens`, this.log("mint token"))
      .matchHeader("authorization", /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i)
      .reply(201, {
        token: reply.token ?? "ghs_minted_token",
        expires_at: reply.expiresAt ?? "2030-01-01T01:00:00Z",
        permissions: reply.permissions ?? { contents: "read", metadata: "read" },
        repository_selection: "selected",
      });
    return this;
  }

  listOpenPulls(branch: string, pulls: { number: number; draft?: boolean }[]): this {
    this.scope
      .get(`/repos/${this.owner}/${this.repo}/pulls`)
      .query({ head: `${this.owner}:${branch}`, state: "open", per_page: "10" })
      .reply(
        200,
        pulls.map((pull) => ({ number: pull.number, draft: pull.draft ?? true, html_url: `https://github.com/${this.owner}/${this.repo}/pull/${pull.number}` })),
      );
    return this;
  }

  createPull(number: number): this {
    this.scope
      .post(`/repos/${this.owner}/${this.repo}/pulls`, this.log("create pull"))
      .reply(201, (_uri, body) => ({ number, draft: (body as Body)["draft"], html_url: `https://github.com/${this.owner}/${this.repo}/pull/${number}` }));
    return this;
  }

  createPullFails(message: string, errors: { message: string }[] = []): this {
    this.scope
      .post(`/repos/${this.owner}/${this.repo}/pulls`, this.log("create pull"))
      .reply(422, { message, errors: errors.map((error) => ({ resource: "PullRequest", code: "custom", ...error })) });
    return this;
  }

  updatePull(number: number): this {
    this.scope.patch(`/repos/${this.owner}/${this.repo}/pulls/${number}`, this.log(`update pull ${number}`)).reply(200, { number });
    return this;
  }

  /** PATCH a pull request answered as GitHub does: the PR, its state and labels included. */
  updatePullAnswering(number: number, pull: { state: "open" | "closed"; labels?: string[]; draft?: boolean }): this {
    this.scope.patch(`/repos/${this.owner}/${this.repo}/pulls/${number}`, this.log(`update pull ${number}`)).reply(200, {
      number,
      state: pull.state,
      draft: pull.draft ?? true,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${number}`,
      labels: (pull.labels ?? []).map((name) => ({ name })),
    });
    return this;
  }

  addLabels(issueNumber: number): this {
    this.scope.post(`/repos/${this.owner}/${this.repo}/issues/${issueNumber}/labels`, this.log(`labels ${issueNumber}`)).reply(200, []);
    return this;
  }

  /** GET contents at `ref`: the file's text, or the HTTP status GitHub answers instead. */
  contents(path: string, ref: string, answer: string | number): this {
    // Octokit sends the path as one URL segment (`.github%2Ffile.md`), which GitHub accepts.
    const interceptor = this.scope.get(`/repos/${this.owner}/${this.repo}/contents/${encodeURIComponent(path)}`).query({ ref });
    if (typeof answer === "number") {
      interceptor.reply(answer, { message: answer === 404 ? "Not Found" : "Server Error" });
    } else {
      interceptor.reply(200, { type: "file", path, encoding: "base64", content: Buffer.from(answer).toString("base64") });
    }
    return this;
  }

  listCheckRuns(sha: string, name: string, runs: { id: number; external_id: string }[]): this {
    this.scope
      .get(`/repos/${this.owner}/${this.repo}/commits/${sha}/check-runs`)
      .query({ check_name: name, filter: "all", per_page: "100" })
      .reply(200, { total_count: runs.length, check_runs: runs.map((run) => ({ ...run, name })) });
    return this;
  }

  createCheckRun(id: number): this {
    this.scope.post(`/repos/${this.owner}/${this.repo}/check-runs`, this.log("create check run")).reply(201, { id });
    return this;
  }

  updateCheckRun(id: number): this {
    this.scope.patch(`/repos/${this.owner}/${this.repo}/check-runs/${id}`, this.log(`update check run ${id}`)).reply(200, { id });
    return this;
  }
}

/** DELETE /installation/token, answered only for the token being revoked. */
export function mockRevoke(apiUrl: string, token: string, status: number): nock.Scope {
  const url = new URL(apiUrl);
  const prefix = url.pathname.replace(/\/+$/, "");
  return nock(url.origin).delete(`${prefix}/installation/token`).matchHeader("authorization", `token ${token}`).reply(status, status === 204 ? "" : { message: "Bad credentials" });
}
