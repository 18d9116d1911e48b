/** Products a task can come from (ARCHITECTURE.md, data model). Extend by adding to the list. */
export const originProducts = ["error_tracking", "eval_clusters", "user_created", "support_queue", "session_summaries"] as const;

export type OriginProduct = (typeof originProducts)[number];
