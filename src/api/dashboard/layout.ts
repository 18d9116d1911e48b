// The page shell every dashboard page shares: head (one stylesheet, one script, both served by
// the app), the header with the team, the operator's team picker and sign out.
import { html, type Html } from "./html.ts";

export interface Viewer {
  kind: "key" | "admin";
  team: { id: string; name: string } | null;
  /** The operator's choice of teams; empty for a team key. */
  teams: { id: string; name: string }[];
  csrf: string;
}

export interface PageOptions {
  title: string;
  /** The page's name for the script: what it keeps live. */
  page: "board" | "task" | "sign-in" | "error";
  /** The event stream this page listens to. */
  stream?: string | undefined;
  viewer?: Viewer | undefined;
  body: Html;
}

export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;

function header(viewer: Viewer | undefined): Html {
  if (!viewer) return html`<header class="top"><a class="brand" href="/tasks">Tasks</a></header>`;
  const picker =
    viewer.kind === "admin" && viewer.teams.length > 0
      ? html`<form class="team-picker" method="post" action="/tasks/team">
          ${csrfField(viewer.csrf)}
          <label for="team-select">Team</label>
          <select id="team-select" name="team">
            ${viewer.teams.map((team) => html`<option value="${team.id}"${team.id === viewer.team?.id ? html` selected` : ""}>${team.name}</option>`)}
          </select>
          <button type="submit">Switch</button>
        </form>`
      : html`<span class="team-name">${viewer.team?.name ?? "No team"}</span>`;
  return html`<header class="top">
    <a class="brand" href="/tasks">Tasks</a>
    ${picker}
    <span class="who">${viewer.kind === "admin" ? "operator" : "team key"}</span>
    <form method="post" action="/tasks/sign-out">${csrfField(viewer.csrf)}<button type="submit">Sign out</button></form>
  </header>`;
}

export function page(options: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Tasks</title>
<link rel="stylesheet" href="/tasks/assets/dashboard.css">
<script src="/tasks/assets/dashboard.js" defer></script>
</head>
<body data-page="${options.page}"${options.stream ? html` data-stream="${options.stream}"` : ""}>
<a class="skip" href="#main">Skip to content</a>
${header(options.viewer)}
<main id="main">
${options.body}
</main>
</body>
</html>
`.value;
}

export function messagePage(title: string, message: string, viewer?: Viewer): string {
  return page({ title, page: "error", viewer, body: html`<h1>${title}</h1><p>${message}</p><p><a href="/tasks">Back to the board</a></p>` });
}
