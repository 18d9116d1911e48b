// Where a task's page is (api/dashboard serves it): the link Tasks posts on GitHub, in the
// tracking comment, each check run's details_url and the pull request body.
export const taskPageUrl = (publicUrl: string, slug: string): string => `${publicUrl}/tasks/${encodeURIComponent(slug)}`;
