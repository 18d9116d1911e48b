// The sign-in form: a team API key or the operator's admin token, entered once.
import { html } from "./html.ts";
import { csrfField, page } from "./layout.ts";

export function signInPage(csrf: string, problem?: string): string {
  return page({
    title: "Sign in",
    page: "sign-in",
    body: html`<h1>Sign in to Tasks</h1>
      ${problem ? html`<p class="notice" role="alert">${problem}</p>` : ""}
      <form class="sign-in" method="post" action="/tasks/sign-in">
        ${csrfField(csrf)}
        <label for="credential">Team API key or admin token</label>
        <input id="credential" name="credential" type="password" autocomplete="current-password" required spellcheck="false">
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">A team key (<code>tasks apikey create</code>) shows that team's tasks; the admin token (<code>TASKS_ADMIN_TOKEN</code> or <code>TASKS_DATA_DIR/admin-token</code>) can switch between teams.</p>`,
  });
}
