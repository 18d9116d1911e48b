import type { Context } from "probot";
import type { AppDeps } from "./app-deps.ts";

const fullNames = (repositories: { full_name?: string | undefined }[] | undefined): string[] =>
  (repositories ?? []).flatMap((repository) => (repository.full_name ? [repository.full_name] : []));

/** installation.*: link to a team, keep repositories, disable (and cancel) on delete/suspend. */
export async function handleInstallation(deps: AppDeps, context: Context<"installation">): Promise<void> {
  const { payload } = context;
  const installationId = payload.installation.id;
  const account = payload.installation.account;
  const accountName = account && "login" in account ? account.login : account && "slug" in account ? account.slug : `installation-${installationId}`;
  switch (payload.action) {
    case "created":
      await deps.tasks.linkInstallation({ installationId, account: accountName, repositories: fullNames(payload.repositories) });
      return;
    case "deleted":
    case "suspend": {
      const cancelled = await deps.tasks.disableInstallation(installationId, payload.action === "deleted" ? "deleted" : "suspended");
      deps.log.info({ installationId, cancelled }, `installation ${payload.action}`);
      return;
    }
    case "unsuspend":
      await deps.tasks.unsuspendInstallation(installationId);
      return;
    default:
      return;
  }
}

export async function handleInstallationRepositories(deps: AppDeps, context: Context<"installation_repositories">): Promise<void> {
  const { payload } = context;
  await deps.tasks.changeInstallationRepositories(payload.installation.id, fullNames(payload.repositories_added), fullNames(payload.repositories_removed));
}
