// The Probot application: one thin handler per trigger, each a guard and one call into tasks/.
import type { Probot } from "probot";
import type { AppDeps } from "./app-deps.ts";
import { handleInstallation, handleInstallationRepositories } from "./handle-installation.ts";
import { handleIssueCommentCreated } from "./handle-issue-comment-created.ts";
import { handleIssuesLabeled } from "./handle-issues-labeled.ts";

export function createGitHubApp(deps: AppDeps) {
  return (app: Probot): void => {
    app.on("issues.labeled", (context) => handleIssuesLabeled(deps, context));
    app.on("issue_comment.created", (context) => handleIssueCommentCreated(deps, context));
    app.on("installation", (context) => handleInstallation(deps, context));
    app.on("installation_repositories", (context) => handleInstallationRepositories(deps, context));
  };
}
