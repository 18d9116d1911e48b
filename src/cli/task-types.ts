// What the admin API answers about tasks (src/api/schemas.ts is the source of truth).
export interface TaskView {
  id: string;
  number: number;
  slug: string;
  title: string;
  description: string;
  status: string;
  stage: { key: string; name: string } | null;
  repository: string;
  origin_product: string;
  source: string;
  issue_number: number | null;
  workflow_id: string;
  branch: string | null;
  pr_url: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface RunView {
  id: string;
  attempt: number;
  status: string;
  engine: string | null;
  engine_id: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface EventView {
  id: string;
  run_id: string | null;
  type: string;
  message: string | null;
  data: unknown;
  created_at: string;
}

export interface TaskDetail extends TaskView {
  runs: RunView[];
  events: EventView[];
}

export interface TaskPage {
  tasks: TaskView[];
  next_cursor: string | null;
}
