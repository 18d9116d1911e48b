// GitHub's REST API for end-to-end runs, at the edge through nock: a small stateful fake
// (comments, check runs, pull requests) that records every call, so a test can assert the
// sequence of what the app did on GitHub.
import nock from "nock";
import type { FakeGitHubCall as Call, FakeCheckRun as CheckRun } from "../inbox/fake-github-server.ts";

type Json = Record<string, unknown>;

// The same shapes as the HTTP stand-in's, so a test reads either fake's records alike.
export type { Call, CheckRun };

export class FakeGitHub {
  readonly calls: Call[] = [];
  /** Every request that reached the fake, reads included (`calls` records only some reads). */
  readonly requests: { method: string; path: string }[] = [];
  readonly comments = new Map<number, { id: number; body: string; user: { login: string; type: string } }[]>();
  readonly checkRuns: CheckRun[] = [];
  readonly pulls: { number: number; head: string; base: string; title: string; body: string; draft: boolean; html_url: string }[] = [];
  readonly scope: nock.Scope;
  private nextId = 1000;

  constructor(apiUrl: string, readonly token: string, readonly roles: Record<string, string> = {}) {
    const scope = nock(apiUrl).persist();
    this.scope = scope;
    scope.on("request", (req: { method: string; path: string }) => {
      this.requests.push({ method: req.method, path: req.path.replace(/^\/api\/v3/, "") });
    });
    const record = (method: string) => (uri: string, body: nock.Body) => {
      this.calls.push({ method, path: uri.replace(/^\/api\/v3/, ""), body: (typeof body === "object" && body ? body : {}) as Json });
    };
    const api = (path: RegExp) => new RegExp(`^(/api/v3)?${path.source}`);

    scope.post(api(/\/app\/installations\/\d+\/access_tokens$/)).reply((uri, body) => {
      record("POST")(uri, body);
      const permissions = (body as Json)["permissions"] ?? { issues: "write", checks: "write", contents: "write", pull_requests: "write", metadata: "read" };
      return [201, { token: this.token, expires_at: "2999-01-01T00:00:00Z", permissions, repository_selection: "selected" }];
    });
    scope.delete(api(/\/installation\/token$/)).reply((uri, body) => (record("DELETE")(uri, body), [204, ""]));
    scope.get(api(/\/repos\/[^/]+\/[^/]+\/collaborators\/[^/]+\/permission$/)).reply((uri) => {
      const login = uri.split("/").at(-2)!;
      const role = this.roles[login] ?? "write";
      return [200, { permission: role === "maintain" ? "write" : role === "triage" ? "read" : role, role_name: role, user: { login } }];
    });
    scope.post(api(/\/repos\/[^/]+\/[^/]+\/issues\/(comments\/)?\d+\/reactions$/)).reply((uri, body) => (record("POST")(uri, body), [201, { id: 1, content: "eyes" }]));
    scope.get(api(/\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments/)).reply((uri, body) => (record("GET")(uri, body), [200, this.comments.get(issueOf(uri)) ?? []]));
    scope.post(api(/\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/)).reply((uri, body) => {
      record("POST")(uri, body);
      const comment = { id: this.nextId++, body: String((body as Json)["body"]), user: { login: "tasks[bot]", type: "Bot" }, performed_via_github_app: { id: 12345, slug: "tasks" } };
      this.comments.set(issueOf(uri), [...(this.comments.get(issueOf(uri)) ?? []), comment]);
      return [201, comment];
    });
    scope.patch(api(/\/repos\/[^/]+\/[^/]+\/issues\/comments\/\d+$/)).reply((uri, body) => {
      record("PATCH")(uri, body);
      const id = Number(uri.split("/").at(-1));
      for (const list of this.comments.values()) for (const comment of list) if (comment.id === id) comment.body = String((body as Json)["body"]);
      return [200, { id }];
    });
    scope.get(api(/\/repos\/[^/]+\/[^/]+$/)).reply((uri) => [200, { full_name: uri.split("/repos/")[1], default_branch: "main" }]);
    scope.get(api(/\/repos\/[^/]+\/[^/]+\/contents\//)).reply(404, { message: "Not Found" });
    scope.get(api(/\/repos\/[^/]+\/[^/]+\/commits\/[0-9a-f]+\/check-runs/)).reply((uri) => {
      const url = new URL(uri, "http://x");
      const sha = url.pathname.split("/commits/")[1]!.split("/")[0];
      const name = url.searchParams.get("check_name");
      const runs = this.checkRuns.filter((run) => run.head_sha === sha && (!name || run.name === name));
      return [200, { total_count: runs.length, check_runs: runs }];
    });
    scope.post(api(/\/repos\/[^/]+\/[^/]+\/check-runs$/)).reply((uri, body) => {
      record("POST")(uri, body);
      const b = body as Json;
      const run: CheckRun = {
        id: this.nextId++,
        name: String(b["name"]),
        head_sha: String(b["head_sha"]),
        external_id: String(b["external_id"] ?? ""),
        status: String(b["status"] ?? "queued"),
        conclusion: (b["conclusion"] as string | undefined) ?? null,
        output: (b["output"] as Json) ?? {},
        history: [],
      };
      run.history.push({ status: run.status, conclusion: run.conclusion });
      this.checkRuns.push(run);
      return [201, run];
    });
    scope.patch(api(/\/repos\/[^/]+\/[^/]+\/check-runs\/\d+$/)).reply((uri, body) => {
      record("PATCH")(uri, body);
      const run = this.checkRuns.find((r) => r.id === Number(uri.split("/").at(-1)))!;
      const b = body as Json;
      if (b["status"]) run.status = String(b["status"]);
      if (b["conclusion"]) run.conclusion = String(b["conclusion"]);
      if (b["output"]) run.output = b["output"] as Json;
      run.history.push({ status: run.status, conclusion: run.conclusion });
      return [200, run];
    });
    scope.get(api(/\/repos\/[^/]+\/[^/]+\/pulls/)).reply((uri) => {
      const head = new URL(uri, "http://x").searchParams.get("head")?.split(":")[1];
      return [200, this.pulls.filter((pull) => pull.head === head).map((pull) => ({ ...pull, head: { ref: pull.head } }))];
    });
    scope.post(api(/\/repos\/[^/]+\/[^/]+\/pulls$/)).reply((uri, body) => {
      record("POST")(uri, body);
      const b = body as Json;
      const number = this.nextId++;
      const pull = { number, head: String(b["head"]), base: String(b["base"]), title: String(b["title"]), body: String(b["body"]), draft: Boolean(b["draft"]), html_url: `https://github.test/${uri.split("/repos/")[1]!.replace(/\/pulls$/, "")}/pull/${number}` };
      this.pulls.push(pull);
      return [201, { ...pull, head: { ref: pull.head } }];
    });
    // A pull request it holds is answered as GitHub does: the PR, open, with its labels.
    scope
      .patch((uri) => api(/\/repos\/[^/]+\/[^/]+\/pulls\/\d+$/).test(uri) && this.pulls.some((pull) => pull.number === Number(uri.split("/").at(-1))))
      .reply((uri, body) => {
        record("PATCH")(uri, body);
        const pull = this.pulls.find((candidate) => candidate.number === Number(uri.split("/").at(-1)))!;
        if (typeof (body as Json)["body"] === "string") pull.body = String((body as Json)["body"]);
        return [200, { ...pull, state: "open", head: { ref: pull.head }, labels: [] }];
      });
    scope.patch(api(/\/repos\/[^/]+\/[^/]+\/pulls\/\d+$/)).reply((uri, body) => (record("PATCH")(uri, body), [200, {}]));
    scope.post(api(/\/repos\/[^/]+\/[^/]+\/issues\/\d+\/labels$/)).reply((uri, body) => (record("POST")(uri, body), [200, []]));
  }

  callsTo(method: string, path: RegExp): Call[] {
    return this.calls.filter((call) => call.method === method && path.test(call.path));
  }

  /** Every request the app made reached an interceptor (none fell through to the network). */
  done(): void {
    nock.cleanAll();
  }
}

function issueOf(uri: string): number {
  return Number(/\/issues\/(\d+)\/comments/.exec(uri)![1]);
}
