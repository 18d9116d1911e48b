// An installation token can stop working before Octokit's cache lets it go (revoked, or a long
// task outliving it): GitHub answers 401 "Bad credentials", and every retry of the step would
// send the same cached token again. Mint a fresh token (`refresh` skips the cache) and try the
// request once more, so the task finishes.
import type { OctokitPlugin } from "./retry-after.ts";

export const refreshInstallationToken: OctokitPlugin = (octokit) => {
  octokit.hook.wrap("request", async (request, options) => {
    try {
      return await request(options);
    } catch (error) {
      if ((error as { status?: number }).status !== 401) throw error;
      try {
        // Only a client of one installation can be refreshed; the app's own (a JWT) throws here.
        await octokit.auth({ type: "installation", refresh: true });
      } catch (refreshError) {
        octokit.log.debug(`no fresh installation token after a 401: ${String(refreshError)}`);
        throw error;
      }
      octokit.log.warn(`GitHub refused the installation token on "${options.method} ${options.url}": retrying once with a fresh one`);
      return request(options);
    }
  });
  return {};
};
