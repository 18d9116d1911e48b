// The one renderer of the tracking comment: a checklist of the stages, the PR link,
// the outcome and the plan. Agent text reaches GitHub only after the secret scan, neutralised
// (mentions, outside images: agent-markdown.ts), and the body is cut to GitHub's size limit.
// The whole body is neutralised, not the plan and note alone: a note follows `**Failed:** ` on
// its line, so read on its own it would open blocks (a fence) that GitHub does not see.
import { scanForSecrets } from "../publish/secret-scan.ts";
import { publishableMarkdown } from "./agent-markdown.ts";
import { maxBodyChars } from "./github-limits.ts";

export const trackingMarker = "<!-- tasks:tracking-comment -->";

export interface TrackingView {
  slug: string;
  title: string;
  status: string;
  stages: { key: string; name: string }[];
  currentStage: string | null;
  taskUrl: string;
  /** The planner's plan, once there is one. */
  plan?: string | null;
  prUrl?: string | null;
  /** Why the run failed, or what it ended with ("no changes: …"), in plain words. */
  note?: string | null;
  /** Model tokens the latest run used through the model gateway. */
  usage?: { inputTokens: number; outputTokens: number } | null;
  /** Shown above everything: how this server runs agents is unsafe (TASKS_SANDBOX=unsafe-host). */
  warning?: string | undefined;
  /** Logins whose @-mentions stay live: the person who triggered the task. */
  mentionable?: readonly (string | null | undefined)[] | undefined;
}

function renderMarkdown(view: TrackingView): string {
  const currentIndex = view.stages.findIndex((stage) => stage.key === view.currentStage);
  const done = view.status === "completed";
  const checklist = view.stages.map((stage, index) => {
    const checked = done || index < currentIndex;
    const marker = index === currentIndex && !done ? " ← current" : "";
    return `- [${checked ? "x" : " "}] ${stage.name}${marker}`;
  });
  const lines = [trackingMarker, `**Tasks** · [${view.slug}](${view.taskUrl}) · \`${view.status}\``, "", ...checklist];
  if (view.warning) lines.splice(1, 0, `> [!WARNING]\n> ${view.warning}`, "");
  if (view.prUrl) lines.push("", `Pull request: ${view.prUrl}`);
  if (view.note) lines.push("", view.status === "failed" ? `**Failed:** ${view.note}` : view.note);
  if (view.usage && view.usage.inputTokens + view.usage.outputTokens > 0) {
    lines.push("", `Model tokens: ${view.usage.inputTokens} input · ${view.usage.outputTokens} output`);
  }
  if (view.plan) lines.push("", "<details><summary>Plan</summary>", "", view.plan, "", "</details>");
  return lines.join("\n");
}

/** The comment's body for the task as it is: scanned for secrets and sized for GitHub. */
export async function renderTrackingComment(view: TrackingView): Promise<string> {
  const mentionable = view.mentionable ?? [];
  const body = renderMarkdown(view);
  // Agent text that looks like a secret never reaches GitHub; the checklist still does.
  if ((await scanForSecrets([{ where: "tracking comment", text: body }])).length > 0) {
    return publishableMarkdown(renderMarkdown({ ...view, plan: null, note: "Details withheld: they looked like they contained a secret." }), { maxChars: maxBodyChars, keep: "head", mentionable });
  }
  return publishableMarkdown(body, { maxChars: maxBodyChars, keep: "head", mentionable });
}
