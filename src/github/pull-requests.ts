// The task's pull request: found again by its head branch and updated, else opened as a draft,
// so a retried publish step converges on one PR.
import type { ProbotOctokit } from "probot";

export { maxPullRequestBodyChars, renderPullRequestBody, type PullRequestBodyInput } from "./pull-request-body.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface PullRequestInput {
  owner: string;
  repo: string;
  /** The task branch, in the same repository. */
  head: string;
  base: string;
  title: string;
  body: string;
  /** Defaults to true: a person decides when the work is ready for review. */
  draft?: boolean;
  labels?: string[];
}

export interface PullRequestResult {
  number: number;
  url: string;
  created: boolean;
  draft: boolean;
}

export async function openOrReusePullRequest(octokit: Octokit, input: PullRequestInput): Promise<PullRequestResult> {
  const { owner, repo } = input;
  let pullRequest = await findOpenPullRequest(octokit, input);
  if (pullRequest) {
    await octokit.rest.pulls.update({ owner, repo, pull_number: pullRequest.number, body: input.body });
  } else {
    pullRequest = await createPullRequest(octokit, input);
  }
  if (input.labels && input.labels.length > 0) {
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: pullRequest.number, labels: input.labels });
  }
  return pullRequest;
}

async function findOpenPullRequest(octokit: Octokit, input: PullRequestInput): Promise<PullRequestResult | undefined> {
  const { data } = await octokit.rest.pulls.list({ owner: input.owner, repo: input.repo, head: `${input.owner}:${input.head}`, state: "open", per_page: 10 });
  const first = data[0];
  return first ? { number: first.number, url: first.html_url, created: false, draft: first.draft ?? false } : undefined;
}

async function createPullRequest(octokit: Octokit, input: PullRequestInput): Promise<PullRequestResult> {
  const draft = input.draft ?? true;
  const fields = { owner: input.owner, repo: input.repo, head: input.head, base: input.base, title: input.title.slice(0, 256), body: input.body };
  try {
    const { data } = await octokit.rest.pulls.create({ ...fields, draft });
    return { number: data.number, url: data.html_url, created: true, draft: data.draft ?? draft };
  } catch (error) {
    const message = validationMessage(error);
    // Another attempt of this step opened it between our look and our create.
    if (message.includes("already exists")) {
      const existing = await findOpenPullRequest(octokit, input);
      if (existing) {
        await octokit.rest.pulls.update({ owner: input.owner, repo: input.repo, pull_number: existing.number, body: input.body });
        return existing;
      }
    }
    // Draft pull requests are unavailable for private repositories on some plans.
    if (draft && /draft/i.test(message)) {
      const { data } = await octokit.rest.pulls.create({ ...fields, draft: false });
      return { number: data.number, url: data.html_url, created: true, draft: false };
    }
    throw error;
  }
}

/** The text of a 422 from GitHub, including its `errors[].message` details; "" for anything else. */
function validationMessage(error: unknown): string {
  const failure = error as { status?: number; message?: string; response?: { data?: { errors?: { message?: string }[] } } };
  if (failure.status !== 422) return "";
  const details = failure.response?.data?.errors?.map((entry) => entry.message ?? "") ?? [];
  return [failure.message ?? "", ...details].join(" ");
}

/** Where GitHub looks for a pull request template, in the order Tasks tries them. */
export const pullRequestTemplatePaths = [
  ".github/pull_request_template.md",
  ".github/PULL_REQUEST_TEMPLATE.md",
  "pull_request_template.md",
  "docs/pull_request_template.md",
];

/** The repository's pull request template at `ref`, or null when it has none. */
export async function readPullRequestTemplate(octokit: Octokit, input: { owner: string; repo: string; ref: string }): Promise<string | null> {
  for (const path of pullRequestTemplatePaths) {
    try {
      const { data } = await octokit.rest.repos.getContent({ owner: input.owner, repo: input.repo, path, ref: input.ref });
      if (!Array.isArray(data) && data.type === "file" && "content" in data) {
        return Buffer.from(data.content, "base64").toString("utf8");
      }
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  return null;
}
