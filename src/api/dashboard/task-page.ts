// A task's page: summary and actions, stage timeline, plan, review notes, runs with usage, and
// the log. Sections marked data-live are swapped in on each change; the log only grows.
import type { EventView } from "../../tasks/task-view.ts";
import type { CostTotal, ModelCost } from "../../lib/model-prices.ts";
import type { ModelUsageView, TaskPageView } from "../../tasks/task-page-queries.ts";
import { formatCount, formatTime, formatUsd, statusLabel } from "./format.ts";
import { html, safeHref, type Html } from "./html.ts";
import { csrfField, page, type Viewer } from "./layout.ts";

function actionButton(slug: string, action: "approve" | "cancel" | "retry", label: string, csrf: string): Html {
  return html`<form method="post" action="/tasks/${slug}/${action}">${csrfField(csrf)}<button type="submit" class="action-${action}">${label}</button></form>`;
}

// Costs are at list prices; a model without a price is named rather than guessed at.
const modelCostText = (cost: ModelCost): string => (cost.known ? formatUsd(cost.usd) : `cost unknown for ${cost.model}`);

function costText(cost: CostTotal): string {
  if (cost.unknownModels.length === 0) return formatUsd(cost.usd);
  const unknown = `cost unknown for ${cost.unknownModels.join(", ")}`;
  return cost.usd > 0 ? `${formatUsd(cost.usd)} + ${unknown}` : unknown;
}

function modelUsage(usage: ModelUsageView): Html {
  const cache = usage.cacheReadTokens + usage.cacheWriteTokens > 0 ? ` (${formatCount(usage.cacheReadTokens)} cache read, ${formatCount(usage.cacheWriteTokens)} cache write)` : "";
  return html`<li class="model-usage"><span class="model">${usage.model}</span>: ${formatCount(usage.inputTokens)} in${cache} · ${formatCount(usage.outputTokens)} out · <span class="cost">${modelCostText(usage.cost)}</span></li>`;
}

function summary(view: TaskPageView, csrf: string, notice: string | undefined): Html {
  const { task } = view;
  const issue = safeHref(view.issueUrl);
  const pr = safeHref(task.pr_url);
  return html`<section id="summary" data-live aria-labelledby="task-title">
    <h1 id="task-title"><span class="slug">${task.slug}</span> <span class="title">${task.title}</span></h1>
    ${notice ? html`<p class="notice" role="alert">${notice}</p>` : ""}
    <p class="status status-${task.status}" id="task-status">${statusLabel(task.status)}</p>
    <dl class="facts">
      <dt>Stage</dt><dd>${task.stage?.name ?? "not started"}</dd>
      <dt>Repository</dt><dd>${task.repository}</dd>
      <dt>Origin</dt><dd>${task.origin_product}</dd>
      <dt>Created</dt><dd><time datetime="${task.created_at}">${formatTime(task.created_at)}</time></dd>
      <dt>Issue</dt><dd>${issue ? html`<a href="${issue}" rel="noreferrer">#${task.issue_number}</a>` : "none"}</dd>
      <dt>Pull request</dt><dd>${pr ? html`<a href="${pr}" rel="noreferrer">${pr}</a>` : "not yet"}</dd>
      <dt>Tokens</dt><dd>${formatCount(view.usage.inputTokens)} in · ${formatCount(view.usage.outputTokens)} out</dd>
      <dt>Cost</dt><dd id="task-cost">${costText(view.cost)} <small>at list prices</small></dd>
    </dl>
    <div class="actions" aria-label="Actions">
      ${view.actions.approve ? actionButton(task.slug, "approve", "Approve", csrf) : ""}
      ${view.actions.retry ? actionButton(task.slug, "retry", "Retry", csrf) : ""}
      ${view.actions.cancel ? actionButton(task.slug, "cancel", "Cancel task", csrf) : ""}
    </div>
  </section>`;
}

function timeline(view: TaskPageView): Html {
  return html`<section id="timeline" data-live aria-labelledby="timeline-title">
    <h2 id="timeline-title">Stages</h2>
    <ol class="timeline">
      ${view.timeline.map(
        (stage) => html`<li class="stage stage-${stage.state}"${stage.state === "current" ? html` aria-current="step"` : ""}>
          <span class="stage-name">${stage.name}</span>
          <span class="stage-state">${stage.state}${stage.requiresApproval ? " · needs approval" : ""}</span>
          ${stage.enteredAt ? html`<time datetime="${stage.enteredAt.toISOString()}">${formatTime(stage.enteredAt)}</time>` : ""}
        </li>`,
      )}
    </ol>
  </section>`;
}

function notes(id: string, title: string, text: string | null, empty: string): Html {
  return html`<section id="${id}" data-live aria-labelledby="${id}-title">
    <h2 id="${id}-title">${title}</h2>
    ${text === null ? html`<p class="empty">${empty}</p>` : html`<pre class="text">${text}</pre>`}
  </section>`;
}

function runs(view: TaskPageView): Html {
  return html`<section id="runs" data-live aria-labelledby="runs-title">
    <h2 id="runs-title">Runs</h2>
    ${view.runs.length === 0
      ? html`<p class="empty">No runs yet.</p>`
      : html`<ol class="runs">
          ${view.runs.map(
            (run) => html`<li class="run">
              <p><strong>Run ${run.attempt}</strong> · <span class="status status-${run.status}">${statusLabel(run.status)}</span>${run.engine ? html` · ${run.engine}` : ""}</p>
              <p class="run-times">${run.started_at ? html`started <time datetime="${run.started_at}">${formatTime(run.started_at)}</time>` : "not started"}${run.finished_at ? html`, finished <time datetime="${run.finished_at}">${formatTime(run.finished_at)}</time>` : ""}</p>
              <p>Tokens: ${formatCount(run.input_tokens)} in · ${formatCount(run.output_tokens)} out · cost <span class="cost">${costText(run.cost)}</span></p>
              ${run.models.length > 0 ? html`<ul class="models" aria-label="Usage by model">${run.models.map(modelUsage)}</ul>` : ""}
              ${run.error ? html`<p class="error">${run.error}</p>` : ""}
              ${run.completion_note ? html`<p>${run.completion_note}</p>` : ""}
            </li>`,
          )}
        </ol>`}
  </section>`;
}

export function logEntry(event: EventView): Html {
  return html`<li data-id="${event.id}" class="event event-${event.type}">
    <span class="event-meta"><time datetime="${event.created_at}">${formatTime(event.created_at)}</time> <span class="event-type">${event.type.replace(/_/g, " ")}</span></span>
    ${event.message === null ? "" : event.type === "agent_output" ? html`<pre class="output">${event.message}</pre>` : html`<span class="event-message">${event.message}</span>`}
  </li>`;
}

export function taskPage(view: TaskPageView, viewer: Viewer, notice?: string): string {
  const slug = view.task.slug;
  return page({
    title: `${slug} ${view.task.title}`,
    page: "task",
    stream: `/tasks/events?task=${encodeURIComponent(slug)}`,
    viewer,
    body: html`<p class="back"><a href="/tasks">← Board</a></p>
      ${summary(view, viewer.csrf, notice)}
      <p id="live-status" class="live-status" role="status" aria-live="polite"></p>
      ${timeline(view)}
      ${notes("plan", "Plan", view.plan, "No plan yet.")}
      ${notes("review", "Review notes", view.reviewNotes, "No review yet.")}
      ${runs(view)}
      <section aria-labelledby="log-title">
        <h2 id="log-title">Log</h2>
        <ol id="log" class="log">${view.events.map(logEntry)}</ol>
      </section>`,
  });
}
