// The task's pull request: the one the task already has (its number kept from its url) is
// updated, else one is opened as a draft; a create that meets "already exists" (an earlier
// attempt opened it and died before recording it) finds it by its head branch and updates it,
// so a retried publish step converges on one PR without a listing in the common case.
import type { ProbotOctokit } from "probot";
import { writeHint } from "./write-hint.ts";

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
  /** The PR the task already has (its recorded url, and the number in it), if any. */
  existing?: { number: number; url: string } | null;
}

export interface PullRequestResult {
  number: number;
  url: string;
  created: boolean;
  draft: boolean;
}

export async function openOrReusePullRequest(octokit: Octokit, input: PullRequestInput): Promise<PullRequestResult> {
  const { owner, repo } = input;
  const known = input.existing ? await updateKnownPullRequest(octokit, input, input.existing) : undefined;
  const pullRequest = known ?? (await createPullRequest(octokit, input));
  const labels = (input.labels ?? []).filter((label) => !pullRequest.labels.includes(label));
  if (labels.length > 0) {
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: pullRequest.number, labels, ...writeHint("publish") });
  }
  return { number: pullRequest.number, url: pullRequest.url, created: pullRequest.created, draft: pullRequest.draft };
}

type FoundPullRequest = PullRequestResult & { labels: string[] };

/** The task's own PR, its body refreshed; undefined when it is closed or gone (then a new one is opened). */
async function updateKnownPullRequest(octokit: Octokit, input: PullRequestInput, known: { number: number; url: string }): Promise<FoundPullRequest | undefined> {
  try {
    const { data } = await octokit.rest.pulls.update({ owner: input.owner, repo: input.repo, pull_number: known.number, body: input.body, ...writeHint("publish") });
    if (data.state === "closed") return undefined;
    const labels = (data.labels ?? []).map((label) => label.name);
    return { number: known.number, url: data.html_url ?? known.url, created: false, draft: data.draft ?? false, labels };
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}

async function findOpenPullRequest(octokit: Octokit, input: PullRequestInput): Promise<FoundPullRequest | undefined> {
  const { data } = await octokit.rest.pulls.list({ owner: input.owner, repo: input.repo, head: `${input.owner}:${input.head}`, state: "open", per_page: 10 });
  const first = data[0];
  return first ? { number: first.number, url: first.html_url, created: false, draft: first.draft ?? false, labels: (first.labels ?? []).map((label) => label.name) } : undefined;
}

async function createPullRequest(octokit: Octokit, input: PullRequestInput): Promise<FoundPullRequest> {
  const draft = input.draft ?? true;
  const fields = { owner: input.owner, repo: input.repo, head: input.head, base: input.base, title: input.title.slice(0, 256), body: input.body };
  try {
    const { data } = await octokit.rest.pulls.create({ ...fields, draft, ...writeHint("publish") });
    return { number: data.number, url: data.html_url, created: true, draft: data.draft ?? draft, labels: [] };
  } catch (error) {
    const message = validationMessage(error);
    // An earlier attempt of this step opened it and died before the task recorded it.
    if (message.includes("already exists")) {
      const existing = await findOpenPullRequest(octokit, input);
      if (existing) {
        await octokit.rest.pulls.update({ owner: input.owner, repo: input.repo, pull_number: existing.number, body: input.body, ...writeHint("publish") });
        return existing;
      }
    }
    // Draft pull requests are unavailable for private repositories on some plans.
    if (draft && /draft/i.test(message)) {
      const { data } = await octokit.rest.pulls.create({ ...fields, draft: false, ...writeHint("publish") });
      return { number: data.number, url: data.html_url, created: true, draft: false, labels: [] };
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

/** A pull request's url with its number (`…/pull/<number>`), or null for anything else. */
export function pullRequestOf(url: string | null | undefined): { number: number; url: string } | null {
  const match = url ? /\/pull\/(\d+)\/?$/.exec(url) : null;
  return url && match ? { number: Number(match[1]), url } : null;
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
