// The board: one column per workflow stage, one card per task, filters as a plain GET form.
import type { SetupGap } from "../../tasks/setup-status.ts";
import type { BoardCard, BoardView } from "../../tasks/board-queries.ts";
import { activeTaskStatuses } from "../../tasks/task-status.ts";
import { formatCount, formatDuration, statusLabel } from "./format.ts";
import { html, safeHref, type Html } from "./html.ts";
import { page, type Viewer } from "./layout.ts";

function card(task: BoardCard, now: Date): Html {
  const issue = safeHref(task.issueUrl);
  const pr = safeHref(task.prUrl);
  return html`<li class="card" data-slug="${task.slug}">
    <article aria-labelledby="card-${task.slug}">
      <h3 id="card-${task.slug}"><a href="/tasks/${task.slug}"><span class="slug">${task.slug}</span> <span class="title">${task.title}</span></a></h3>
      <p class="status status-${task.status}">${statusLabel(task.status)}</p>
      <dl>
        <dt>Repository</dt><dd>${task.repository}</dd>
        <dt>Origin</dt><dd>${task.originProduct}</dd>
        <dt>In stage</dt><dd>${activeTaskStatuses.includes(task.status) ? html`<time datetime="${task.inStageSince.toISOString()}">${formatDuration(now.getTime() - task.inStageSince.getTime())}</time>` : "finished"}</dd>
        <dt>Tokens</dt><dd>${formatCount(task.tokens)}</dd>
      </dl>
      ${issue || pr ? html`<p class="links">${issue ? html`<a href="${issue}" rel="noreferrer">Issue</a>` : ""} ${pr ? html`<a href="${pr}" rel="noreferrer">Pull request</a>` : ""}</p>` : ""}
    </article>
  </li>`;
}

function select(name: string, label: string, values: readonly string[], chosen: string | undefined, show: (value: string) => string = (v) => v): Html {
  return html`<div class="field">
    <label for="filter-${name}">${label}</label>
    <select id="filter-${name}" name="${name}">
      <option value="">All</option>
      ${values.map((value) => html`<option value="${value}"${value === chosen ? html` selected` : ""}>${show(value)}</option>`)}
    </select>
  </div>`;
}

function filters(view: BoardView): Html {
  return html`<form class="filters" method="get" action="/tasks" aria-label="Filter tasks">
    ${select("status", "Status", view.choices.statuses, view.filter.status, statusLabel)}
    ${select("repository", "Repository", view.choices.repositories, view.filter.repository)}
    ${select("origin_product", "Origin product", view.choices.originProducts, view.filter.originProduct)}
    <button type="submit">Filter</button>
    <a href="/tasks">Clear filters</a>
  </form>`;
}

function setupBanner(gaps: readonly SetupGap[]): Html {
  if (gaps.length === 0) return html``;
  return html`<section class="banner" aria-labelledby="setup-title">
    <h2 id="setup-title">Setup is not finished</h2>
    <ul>${gaps.map((gap) => html`<li><strong>${gap.missing}</strong> ${gap.fix}</li>`)}</ul>
  </section>`;
}

/** The part of the board the script swaps in on every change. */
export function boardColumns(view: BoardView, now: Date): Html {
  return html`<div id="board" class="board" data-live>
    ${view.columns.map(
      (column, index) => html`<section class="column" aria-labelledby="column-${index}">
        <h2 id="column-${index}">${column.name} <span class="count">${column.cards.length}</span></h2>
        <ol class="cards">${column.cards.map((task) => card(task, now))}</ol>
      </section>`,
    )}
    ${view.truncated ? html`<p class="note">Only the most recently changed tasks are shown; use the filters to narrow the board.</p>` : ""}
  </div>`;
}

export function boardPage(view: BoardView, viewer: Viewer, setupGaps: readonly SetupGap[], now = new Date()): string {
  return page({
    title: `${view.team.name} board`,
    page: "board",
    stream: "/tasks/events",
    viewer,
    body: html`${setupBanner(setupGaps)}
      <h1>${view.team.name} <span class="sub">tasks</span></h1>
      ${filters(view)}
      <p id="live-status" class="live-status" role="status" aria-live="polite"></p>
      ${boardColumns(view, now)}`,
  });
}
